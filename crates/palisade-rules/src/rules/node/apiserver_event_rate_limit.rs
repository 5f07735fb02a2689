use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.9.
    pub struct ApiserverEventRateLimit;
    checks: Node,
    id: "API009",
    slug: "apiserver-event-rate-limit",
    title: "API server does not rate-limit events (CIS 1.2.9)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.9: `--enable-admission-plugins` of kube-apiserver does not include `EventRateLimit`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without `EventRateLimit` one noisy or hostile client can flood the API server and etcd with events.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and add `EventRateLimit` to `--enable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file. `EventRateLimit` also needs `--admission-control-config-file` naming an `AdmissionConfiguration` with its limits.",
    references: &[Reference::new(Framework::Cis, "1.2.9")],
    fix: None,
}

impl NodeRule for ApiserverEventRateLimit {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.9", out);
    }
}
