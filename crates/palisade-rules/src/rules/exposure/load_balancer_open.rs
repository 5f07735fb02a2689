use palisade_core::pointer::At;
use palisade_core::rule::Severity;
use palisade_core::Object;
use serde_json::Value;

use super::INTERNET_EXPOSURE_REFERENCES;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Public load balancers open to every address.
    pub struct LoadBalancerSourceRanges;
    checks: Object,
    id: "SVC001",
    slug: "load-balancer-open",
    title: "LoadBalancer Service accepts traffic from any address",
    severity: Severity::Medium,
    category: "exposure",
    kinds: &["Service"],
    summary: "A `type: LoadBalancer` Service has no `loadBalancerSourceRanges` (or one that \
contains `0.0.0.0/0` or `::/0`), no cloud annotation that makes the load balancer internal, and \
exposes a port other than 80 and 443. A public web entry point (only HTTP and HTTPS) is open to \
everyone by design and is not reported.",
    rationale: "The cloud provider then opens the Service's ports to the whole internet. \
Internal tools, databases and admin interfaces exposed this way are found by scanners within \
hours.",
    remediation: "Restrict the client ranges, or make the load balancer internal:\n\n```yaml\n\
spec:\n  type: LoadBalancer\n  loadBalancerSourceRanges: [203.0.113.0/24]\n```\n\nFor a public \
entry point (an ingress gateway) that must be open, suppress the finding for it with a reason.",
    references: INTERNET_EXPOSURE_REFERENCES,
    fix: None,
}

/// Annotations (and values) that make a cloud load balancer internal.
const INTERNAL: &[(&str, &[&str])] = &[
    ("networking.gke.io/load-balancer-type", &["internal"]),
    ("cloud.google.com/load-balancer-type", &["internal"]),
    (
        "service.beta.kubernetes.io/aws-load-balancer-internal",
        &["true", "0.0.0.0/0"],
    ),
    (
        "service.beta.kubernetes.io/aws-load-balancer-scheme",
        &["internal"],
    ),
    (
        "service.beta.kubernetes.io/azure-load-balancer-internal",
        &["true"],
    ),
    (
        "service.beta.kubernetes.io/oci-load-balancer-internal",
        &["true"],
    ),
    (
        "service.kubernetes.io/ibm-load-balancer-cloud-provider-ip-type",
        &["private"],
    ),
    (
        "service.beta.kubernetes.io/openstack-internal-load-balancer",
        &["true"],
    ),
];

/// How a `type: LoadBalancer` Service is reachable from outside the cluster.
pub(crate) enum LoadBalancer {
    /// A cloud annotation makes it internal.
    Internal,
    /// `loadBalancerSourceRanges` lists the client ranges (none of them everything).
    Restricted(usize),
    /// Open to every address, on ports 80 and 443 only: a web entry point.
    OpenWeb,
    /// Open to every address on other ports: what SVC001 reports, at the pointer given.
    Open(&'static str, String),
}

/// The exposure of a Service of `type: LoadBalancer` (`None` for other Services).
pub(crate) fn load_balancer(object: &Object) -> Option<LoadBalancer> {
    let value = &object.value;
    if value.at("/spec/type").and_then(Value::as_str) != Some("LoadBalancer") {
        return None;
    }
    let internal = INTERNAL.iter().any(|(key, values)| {
        object
            .annotation(key)
            .is_some_and(|v| values.iter().any(|x| v.eq_ignore_ascii_case(x)))
    });
    if internal {
        return Some(LoadBalancer::Internal);
    }
    let web_only = match value.at("/spec/ports") {
        Some(Value::Array(ports)) => ports
            .iter()
            .all(|p| matches!(p.get("port").and_then(Value::as_u64), Some(80 | 443))),
        _ => false,
    };
    let open = match value.at("/spec/loadBalancerSourceRanges") {
        Some(Value::Array(ranges)) if !ranges.is_empty() => {
            match ranges
                .iter()
                .position(|r| matches!(r.as_str().map(str::trim), Some("0.0.0.0/0" | "::/0")))
            {
                Some(index) => LoadBalancer::Open(
                    "LoadBalancer Service allows every address; list only the client ranges that need it",
                    format!("/spec/loadBalancerSourceRanges/{index}"),
                ),
                None => return Some(LoadBalancer::Restricted(ranges.len())),
            }
        }
        _ => LoadBalancer::Open(
            "LoadBalancer Service is reachable from any address; set loadBalancerSourceRanges or make it internal",
            "/spec/type".to_owned(),
        ),
    };
    Some(if web_only {
        LoadBalancer::OpenWeb
    } else {
        open
    })
}

impl ObjectRule for LoadBalancerSourceRanges {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if let Some(LoadBalancer::Open(message, pointer)) = load_balancer(cx.object) {
            out.push(Emit::new(pointer, message));
        }
    }
}
