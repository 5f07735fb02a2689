use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.18.
    pub struct ApiserverAuditLogMaxbackup;
    checks: Node,
    id: "API018",
    slug: "apiserver-audit-log-maxbackup",
    title: "API server keeps fewer than 10 audit log files (CIS 1.2.18)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.18: `--audit-log-maxbackup` of kube-apiserver is below 10 or not set.",
    rationale: "Too few rotated files lose the history a busy cluster writes in hours.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--audit-log-maxbackup=10` or more; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.18")],
    fix: None,
}

impl NodeRule for ApiserverAuditLogMaxbackup {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.18", out);
    }
}
