use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.5.
    pub struct ControllerManagerRootCaFile;
    checks: Node,
    id: "KCM005",
    slug: "controller-manager-root-ca-file",
    title: "Controller manager gives pods no root CA (CIS 1.3.5)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.5: `--root-ca-file` of kube-controller-manager is not set.",
    rationale: "Without `--root-ca-file` pods receive no CA bundle to verify the API server and may skip verification.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and set `--root-ca-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.5")],
    fix: None,
}

impl NodeRule for ControllerManagerRootCaFile {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.5", out);
    }
}
