use palisade_core::pointer::At;
use palisade_core::rule::Severity;
use serde_json::Value;

use super::ingress_without_tls::ingress_tls;
use super::load_balancer_open::{load_balancer, LoadBalancer};
use super::INTERNET_EXPOSURE_REFERENCES;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// The entry points from the internet that no other exposure rule reports.
    pub struct InternetEntryPoint;
    checks: Object,
    id: "SVC007",
    slug: "internet-entry-point",
    title: "Internet entry point",
    severity: Severity::Info,
    category: "exposure",
    kinds: &["Service", "Ingress"],
    summary: "An inventory of the ways in from the internet, so that each can be reviewed: a \
`type: LoadBalancer` Service that no cloud annotation makes internal, and an Ingress. Each \
entry point is reported once, by the most specific rule: a load balancer open to every address \
on ports other than 80 and 443 is reported by SVC001 (`load-balancer-open`), a `NodePort` \
Service by SVC002 (`node-port-service`) and an Ingress without TLS by SVC004 \
(`ingress-without-tls`); this rule reports the others: load balancers open to every address \
on ports 80 and 443 only, load balancers limited by `loadBalancerSourceRanges`, and Ingresses \
with TLS.",
    rationale: "Every entry point from the internet is attack surface, even when it is \
configured as intended: the hardening guides ask for the list of them to be reviewed \
regularly, and an entry point nobody knows about is one nobody patches or watches.",
    remediation: "Review the entry point: that it must be reachable from the internet, that \
what it serves is meant to be public or authenticates its clients, and that it is monitored. \
Make the ones that need not be public internal (an internal load balancer, or a ClusterIP \
Service behind an internal ingress class), and restrict the others to the client ranges that \
use them:\n\n```yaml\nspec:\n  type: LoadBalancer\n  loadBalancerSourceRanges: \
[203.0.113.0/24]\n```\n\nSuppress the finding, with a reason, for entry points that have been \
reviewed.",
    references: INTERNET_EXPOSURE_REFERENCES,
    fix: None,
}

/// The ports of a Service, as `80, 443`.
fn ports(value: &Value) -> String {
    let ports: Vec<String> = match value.at("/spec/ports") {
        Some(Value::Array(ports)) => ports
            .iter()
            .filter_map(|p| p.get("port").and_then(Value::as_u64))
            .map(|p| p.to_string())
            .collect(),
        _ => Vec::new(),
    };
    if ports.is_empty() {
        "no port".to_owned()
    } else {
        format!(
            "port{} {}",
            if ports.len() == 1 { "" } else { "s" },
            ports.join(", ")
        )
    }
}

/// The hosts an Ingress serves, or `every host`.
fn hosts(value: &Value) -> String {
    let hosts: Vec<&str> = match value.at("/spec/rules") {
        Some(Value::Array(rules)) => rules
            .iter()
            .filter_map(|r| r.get("host").and_then(Value::as_str))
            .collect(),
        _ => Vec::new(),
    };
    if hosts.is_empty() {
        "every host".to_owned()
    } else {
        hosts.join(", ")
    }
}

impl ObjectRule for InternetEntryPoint {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let value = &cx.object.value;
        let message = match (cx.object.kind(), load_balancer(cx.object)) {
            ("Service", Some(LoadBalancer::OpenWeb)) => format!(
                "internet entry point: LoadBalancer Service open to every address on {}; \
review that it must be public",
                ports(value)
            ),
            ("Service", Some(LoadBalancer::Restricted(ranges))) => format!(
                "internet entry point: LoadBalancer Service on {}, reachable from {ranges} \
source range{}; review the ranges",
                ports(value),
                if ranges == 1 { "" } else { "s" }
            ),
            ("Ingress", _) if ingress_tls(cx.object) == Some(true) => format!(
                "internet entry point: Ingress serving {} over TLS; review that it must be \
public",
                hosts(value)
            ),
            _ => return,
        };
        let pointer = if cx.object.kind() == "Service" {
            "/spec/type"
        } else {
            "/spec/tls"
        };
        out.push(Emit::new(pointer, message));
    }
}
