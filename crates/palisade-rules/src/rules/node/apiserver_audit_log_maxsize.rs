use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.19.
    pub struct ApiserverAuditLogMaxsize;
    checks: Node,
    id: "API019",
    slug: "apiserver-audit-log-maxsize",
    title: "API server rotates audit logs below 100 MB (CIS 1.2.19)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.19: `--audit-log-maxsize` of kube-apiserver is below 100 or not set.",
    rationale: "Small audit files with few backups keep little history on a busy API server.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--audit-log-maxsize=100` or more; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.19")],
    fix: None,
}

impl NodeRule for ApiserverAuditLogMaxsize {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.19", out);
    }
}
