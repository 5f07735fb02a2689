use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.16.
    pub struct ApiserverAuditLogPath;
    checks: Node,
    id: "API016",
    slug: "apiserver-audit-log-path",
    title: "API server writes no audit log (CIS 1.2.16)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.16: `--audit-log-path` of kube-apiserver is not set.",
    rationale: "Without an audit log there is no record of who did what to the cluster: incidents cannot be investigated.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--audit-log-path` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.16")],
    fix: None,
}

impl NodeRule for ApiserverAuditLogPath {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.16", out);
    }
}
