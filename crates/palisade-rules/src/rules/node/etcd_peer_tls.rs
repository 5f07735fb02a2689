use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.4.
    pub struct EtcdPeerTls;
    checks: Node,
    id: "ETC004",
    slug: "etcd-peer-tls",
    title: "etcd peers talk without TLS (CIS 2.4)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.4: `--peer-cert-file` or `--peer-key-file` of etcd is not set.",
    rationale: "Without peer TLS, replication traffic between etcd members, every Secret included, is in clear text.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--peer-cert-file` to the path of its file and set `--peer-key-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.4")],
    fix: None,
}

impl NodeRule for EtcdPeerTls {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.4", out);
    }
}
