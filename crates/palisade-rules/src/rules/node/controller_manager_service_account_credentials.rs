use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.3.
    pub struct ControllerManagerServiceAccountCredentials;
    checks: Node,
    id: "KCM003",
    slug: "controller-manager-service-account-credentials",
    title: "Controller manager runs all controllers under its own shared identity (CIS 1.3.3)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.3: `--use-service-account-credentials` of kube-controller-manager is `false`.",
    rationale: "Without `--use-service-account-credentials` every controller acts with the controller manager's broad identity, so RBAC cannot limit one controller.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and set `--use-service-account-credentials` to a value other than `false`; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.3")],
    fix: None,
}

impl NodeRule for ControllerManagerServiceAccountCredentials {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.3", out);
    }
}
