use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.3.1.
    pub struct ProxyMetricsBindAddress;
    checks: Node,
    id: "KPX001",
    slug: "proxy-metrics-bind-address",
    title: "kube-proxy metrics are served beyond localhost (CIS 4.3.1)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.3.1: `--metrics-bind-address` (`metricsBindAddress` in the configuration file) of kube-proxy is set to an address other than `127.0.0.1` (kube-bench's test: the value does not contain `127.0.0.1`).",
    rationale: "kube-proxy's metrics endpoint is unauthenticated; bound to every interface it tells anyone on the network the cluster's Services and their traffic.",
    remediation: "In kube-proxy's configuration (the `kube-proxy` ConfigMap with kubeadm), add `127.0.0.1` to `--metrics-bind-address`, for example `metricsBindAddress: 127.0.0.1:10249`; then restart the kube-proxy pods.",
    references: &[Reference::new(Framework::Cis, "4.3.1")],
    fix: None,
}

impl NodeRule for ProxyMetricsBindAddress {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.3.1", out);
    }
}
