use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.8.
    pub struct ApiserverAuthorizationRbac;
    checks: Node,
    id: "API008",
    slug: "apiserver-authorization-rbac",
    title: "API server authorization does not include RBAC (CIS 1.2.8)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.8: `--authorization-mode` of kube-apiserver does not include `RBAC`.",
    rationale: "Without RBAC there is no role-based control of what users and service accounts may do.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and add `RBAC` to `--authorization-mode`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.8")],
    fix: None,
}

impl NodeRule for ApiserverAuthorizationRbac {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.8", out);
    }
}
