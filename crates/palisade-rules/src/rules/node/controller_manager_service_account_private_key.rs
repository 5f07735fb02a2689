use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.4.
    pub struct ControllerManagerServiceAccountPrivateKey;
    checks: Node,
    id: "KCM004",
    slug: "controller-manager-service-account-private-key",
    title: "Controller manager has no service account signing key (CIS 1.3.4)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.4: `--service-account-private-key-file` of kube-controller-manager is not set.",
    rationale: "Without `--service-account-private-key-file` service account tokens cannot be signed with a key of their own, which makes key rotation impossible.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and set `--service-account-private-key-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.4")],
    fix: None,
}

impl NodeRule for ControllerManagerServiceAccountPrivateKey {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.4", out);
    }
}
