use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.17.
    pub struct ApiserverAuditLogMaxage;
    checks: Node,
    id: "API017",
    slug: "apiserver-audit-log-maxage",
    title: "API server keeps audit logs for less than 30 days (CIS 1.2.17)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.17: `--audit-log-maxage` of kube-apiserver is below 30 or not set.",
    rationale: "Audit logs kept only a few days are gone before most intrusions are noticed.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--audit-log-maxage=30` or more; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.17")],
    fix: None,
}

impl NodeRule for ApiserverAuditLogMaxage {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.17", out);
    }
}
