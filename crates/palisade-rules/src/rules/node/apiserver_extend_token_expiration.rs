use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.30.
    pub struct ApiserverExtendTokenExpiration;
    checks: Node,
    id: "API030",
    slug: "apiserver-extend-token-expiration",
    title: "API server extends service account token lifetimes (CIS 1.2.30)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.30: `--service-account-extend-token-expiration` of kube-apiserver is not set to `false`.",
    rationale: "`--service-account-extend-token-expiration` (on by default) lets bound tokens live up to a year, so a leaked token stays useful long after its nominal expiry.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--service-account-extend-token-expiration=false`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.30")],
    fix: None,
}

impl NodeRule for ApiserverExtendTokenExpiration {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.30", out);
    }
}
