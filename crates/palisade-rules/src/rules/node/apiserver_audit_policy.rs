use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 3.2.1.
    pub struct ApiserverAuditPolicy;
    checks: Node,
    id: "LOG001",
    slug: "apiserver-audit-policy",
    title: "API server has no audit policy (CIS 3.2.1)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 3.2.1: `--audit-policy-file` of kube-apiserver is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without `--audit-policy-file` the API server records no audit events at all, whatever `--audit-log-path` says.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--audit-policy-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "3.2.1")],
    fix: None,
}

impl NodeRule for ApiserverAuditPolicy {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "3.2.1", out);
    }
}
