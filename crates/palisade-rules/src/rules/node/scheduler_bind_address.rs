use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.4.2.
    pub struct SchedulerBindAddress;
    checks: Node,
    id: "SCH002",
    slug: "scheduler-bind-address",
    title: "Scheduler listens on every interface (CIS 1.4.2)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.4.2: `--bind-address` of kube-scheduler is set to something other than `127.0.0.1`.",
    rationale: "The scheduler's port serves health and metrics; bound beyond localhost it is reachable from the network for no reason.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-scheduler.yaml` on each control plane node and set `--bind-address=127.0.0.1` or remove it; the kubelet restarts the static pod when the file changes. Where kube-scheduler runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.4.2")],
    fix: None,
}

impl NodeRule for SchedulerBindAddress {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.4.2", out);
    }
}
