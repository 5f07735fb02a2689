use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.3.
    pub struct EtcdAutoTls;
    checks: Node,
    id: "ETC003",
    slug: "etcd-auto-tls",
    title: "etcd uses self-signed certificates (auto TLS) (CIS 2.3)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.3: `--auto-tls` of etcd is set to something other than `false`.",
    rationale: "Self-signed certificates that no one verifies give encryption without authentication: any client can connect.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--auto-tls=false` or remove it; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.3")],
    fix: None,
}

impl NodeRule for EtcdAutoTls {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.3", out);
    }
}
