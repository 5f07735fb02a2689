use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.3.1.
    pub struct ControllerManagerTerminatedPodGc;
    checks: Node,
    id: "KCM001",
    slug: "controller-manager-terminated-pod-gc",
    title: "Controller manager keeps terminated pods without a threshold (CIS 1.3.1)",
    severity: Severity::Info,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.3.1: `--terminated-pod-gc-threshold` of kube-controller-manager is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without a threshold terminated pods accumulate up to 12500, which slows the control plane down.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-controller-manager.yaml` on each control plane node and set `--terminated-pod-gc-threshold` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-controller-manager runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.3.1")],
    fix: None,
}

impl NodeRule for ControllerManagerTerminatedPodGc {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.3.1", out);
    }
}
