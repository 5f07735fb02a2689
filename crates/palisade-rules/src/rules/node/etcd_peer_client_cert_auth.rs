use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.5.
    pub struct EtcdPeerClientCertAuth;
    checks: Node,
    id: "ETC005",
    slug: "etcd-peer-client-cert-auth",
    title: "etcd does not require peer certificates (CIS 2.5)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.5: `--peer-client-cert-auth` of etcd is not set to `true`.",
    rationale: "Without `--peer-client-cert-auth` any machine that reaches the peer port can join or talk to the etcd cluster.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--peer-client-cert-auth=true`; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.5")],
    fix: None,
}

impl NodeRule for EtcdPeerClientCertAuth {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.5", out);
    }
}
