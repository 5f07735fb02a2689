use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.1.
    pub struct ApiserverAnonymousAuth;
    checks: Node,
    id: "API001",
    slug: "apiserver-anonymous-auth",
    title: "API server accepts anonymous requests (CIS 1.2.1)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.1: `--anonymous-auth` of kube-apiserver is not set to `false`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Anonymous requests are authenticated as `system:anonymous`; any RBAC binding to it or to `system:unauthenticated` (added by mistake, or by a chart) opens the API to the network without credentials.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--anonymous-auth=false`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.1")],
    fix: None,
}

impl NodeRule for ApiserverAnonymousAuth {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.1", out);
    }
}
