use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.21.
    pub struct ApiserverServiceAccountLookup;
    checks: Node,
    id: "API021",
    slug: "apiserver-service-account-lookup",
    title: "API server does not check that service account tokens still exist (CIS 1.2.21)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.21: `--service-account-lookup` of kube-apiserver is set to something other than `true`.",
    rationale: "Without the lookup, a token of a deleted service account keeps working until it expires.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--service-account-lookup=true` or remove it; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.21")],
    fix: None,
}

impl NodeRule for ApiserverServiceAccountLookup {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.21", out);
    }
}
