use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.7.
    pub struct ControllerManagerBindAddress;
    checks: Node,
    id: "KCM007",
    slug: "controller-manager-bind-address",
    title: "Controller manager listens on every interface (CIS 1.3.7)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.7: `--bind-address` of kube-controller-manager is set to something other than `127.0.0.1`.",
    rationale: "The controller manager's port serves health and metrics; bound beyond localhost it is reachable from the network for no reason.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and set `--bind-address=127.0.0.1` or remove it; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.7")],
    fix: None,
}

impl NodeRule for ControllerManagerBindAddress {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.7", out);
    }
}
