use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.6.
    pub struct ApiserverAuthorizationAlwaysAllow;
    checks: Node,
    id: "API006",
    slug: "apiserver-authorization-always-allow",
    title: "API server authorizes every request (AlwaysAllow) (CIS 1.2.6)",
    severity: Severity::Critical,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.6: `--authorization-mode` of kube-apiserver includes `AlwaysAllow`.",
    rationale: "`AlwaysAllow` lets every authenticated (and, with anonymous auth, unauthenticated) request do anything: RBAC is not consulted at all.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and remove `AlwaysAllow` from `--authorization-mode`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.6")],
    fix: None,
}

impl NodeRule for ApiserverAuthorizationAlwaysAllow {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.6", out);
    }
}
