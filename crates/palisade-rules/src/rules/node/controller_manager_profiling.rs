use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.2.
    pub struct ControllerManagerProfiling;
    checks: Node,
    id: "KCM002",
    slug: "controller-manager-profiling",
    title: "Controller manager exposes profiling (CIS 1.3.2)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.2: `--profiling` of kube-controller-manager is not set to `false`.",
    rationale: "The profiling endpoints reveal internals and can be used to slow the controller manager down.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and set `--profiling=false`; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.2")],
    fix: None,
}

impl NodeRule for ControllerManagerProfiling {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.2", out);
    }
}
