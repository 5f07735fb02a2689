use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.6.
    pub struct ControllerManagerRotateKubeletServerCertificate;
    checks: Node,
    id: "KCM006",
    slug: "controller-manager-rotate-kubelet-server-certificate",
    title: "Controller manager disables kubelet serving certificate rotation (CIS 1.3.6)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.6: `--feature-gates` of kube-controller-manager includes `RotateKubeletServerCertificate=false`.",
    rationale: "Kubelet serving certificates that are never rotated stay valid for a long time after a node is compromised.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and remove `RotateKubeletServerCertificate=false` from `--feature-gates`; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.6")],
    fix: None,
}

impl NodeRule for ControllerManagerRotateKubeletServerCertificate {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.6", out);
    }
}
