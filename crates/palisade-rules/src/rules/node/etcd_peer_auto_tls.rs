use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.6.
    pub struct EtcdPeerAutoTls;
    checks: Node,
    id: "ETC006",
    slug: "etcd-peer-auto-tls",
    title: "etcd peers use self-signed certificates (CIS 2.6)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.6: `--peer-auto-tls` of etcd is set to something other than `false`.",
    rationale: "Self-signed peer certificates authenticate no one: a rogue member can join.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--peer-auto-tls=false` or remove it; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.6")],
    fix: None,
}

impl NodeRule for EtcdPeerAutoTls {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.6", out);
    }
}
