use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.12.
    pub struct ApiserverServiceAccountPlugin;
    checks: Node,
    id: "API012",
    slug: "apiserver-service-account-plugin",
    title: "API server disables the ServiceAccount admission plugin (CIS 1.2.12)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.12: `--disable-admission-plugins` of kube-apiserver includes `ServiceAccount`.",
    rationale: "The ServiceAccount plugin gives each pod a service account and its token; without it pods run without the identity RBAC rules are written for.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and remove `ServiceAccount` from `--disable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.12")],
    fix: None,
}

impl NodeRule for ApiserverServiceAccountPlugin {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.12", out);
    }
}
