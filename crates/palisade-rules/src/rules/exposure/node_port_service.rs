use palisade_core::pointer::At;
use palisade_core::rule::Severity;
use serde_json::Value;

use super::INTERNET_EXPOSURE_REFERENCES;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Services exposed on every node's address.
    pub struct NodePort;
    checks: Object,
    id: "SVC002",
    slug: "node-port-service",
    title: "Service is exposed on every node",
    severity: Severity::Low,
    category: "exposure",
    kinds: &["Service"],
    summary: "A Service has `type: NodePort`.",
    rationale: "A NodePort opens the port on every node of the cluster, on all its addresses, \
bypassing the load balancer and its access controls. Node firewalls are often looser than \
expected, and NetworkPolicies do not see traffic from outside the cluster the same way.",
    remediation: "Use `type: ClusterIP` behind an Ingress or Gateway, or a `LoadBalancer` with \
`loadBalancerSourceRanges`.",
    references: INTERNET_EXPOSURE_REFERENCES,
    fix: None,
}

impl ObjectRule for NodePort {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.value.at("/spec/type").and_then(Value::as_str) != Some("NodePort") {
            return;
        }
        out.push(Emit::new(
            "/spec/type",
            "Service is exposed on a port of every node; use ClusterIP behind an Ingress or Gateway",
        ));
    }
}
