use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.15.
    pub struct ApiserverProfiling;
    checks: Node,
    id: "API015",
    slug: "apiserver-profiling",
    title: "API server exposes profiling (CIS 1.2.15)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.15: `--profiling` of kube-apiserver is not set to `false`.",
    rationale: "The profiling endpoints reveal internals and can be used to slow the API server down; they are for debugging, not production.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--profiling=false`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.15")],
    fix: None,
}

impl NodeRule for ApiserverProfiling {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.15", out);
    }
}
