use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.4.1.
    pub struct SchedulerProfiling;
    checks: Node,
    id: "SCH001",
    slug: "scheduler-profiling",
    title: "Scheduler exposes profiling (CIS 1.4.1)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.4.1: `--profiling` of kube-scheduler is not set to `false`.",
    rationale: "The profiling endpoints reveal internals and can be used to slow the scheduler down.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-scheduler.yaml` on each control plane node and set `--profiling=false`; the kubelet restarts the static pod when the file changes. Where kube-scheduler runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.4.1")],
    fix: None,
}

impl NodeRule for SchedulerProfiling {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.4.1", out);
    }
}
