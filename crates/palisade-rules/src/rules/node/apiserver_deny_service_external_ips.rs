use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.3.
    pub struct ApiserverDenyServiceExternalIps;
    checks: Node,
    id: "API003",
    slug: "apiserver-deny-service-external-ips",
    title: "API server does not deny Service external IPs (CIS 1.2.3)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.3: `--enable-admission-plugins` of kube-apiserver does not include `DenyServiceExternalIPs`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without `DenyServiceExternalIPs`, anyone who can create a Service can claim an external IP and intercept traffic meant for it (CVE-2020-8554).",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and add `DenyServiceExternalIPs` to `--enable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.3")],
    fix: None,
}

impl NodeRule for ApiserverDenyServiceExternalIps {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.3", out);
    }
}
