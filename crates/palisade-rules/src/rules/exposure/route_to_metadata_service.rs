use palisade_core::pointer;
use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::secrets::find_credential;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Routes and endpoints that lead to a cloud metadata service.
    pub struct MetadataAddress;
    checks: Object,
    id: "SVC005",
    slug: "route-to-metadata-service",
    title: "Route or endpoint points at the cloud metadata service",
    severity: Severity::High,
    category: "exposure",
    kinds: &[
        "Service",
        "Endpoints",
        "EndpointSlice",
        "Ingress",
        "VirtualService",
        "HTTPRoute",
        "GRPCRoute",
        "TCPRoute",
    ],
    summary: "A Service (`externalName`, `externalIPs`), Endpoints, EndpointSlice, Ingress \
(including its annotations), Gateway API route or Istio VirtualService bound to a gateway \
names a cloud metadata address: \
`169.254.169.254`, `fd00:ec2::254`, `metadata.google.internal`, `100.100.100.200`, \
`169.254.170.2`. Egress registrations (`ServiceEntry`, mesh-only VirtualServices) that let \
workloads reach the metadata server are not routes to it from outside and are not reported.",
    rationale: "The metadata service hands out the node's cloud credentials to whoever asks \
from the node. A route to it makes those credentials reachable from wherever the route is \
reachable, often from the internet (the classic server-side request forgery target).",
    remediation: "Remove the route or endpoint. Block pod access to metadata addresses with an \
egress NetworkPolicy (`except: [169.254.169.254/32]`) and use workload identity instead of node \
credentials.",
    references: &[
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::url(
            Framework::Mitre,
            "T1552.005",
            "https://attack.mitre.org/techniques/T1552/005/",
        ),
    ],
    fix: None,
    credentials: true,
}

const METADATA: &[&str] = &[
    "169.254.169.254",
    "fd00:ec2::254",
    "metadata.google.internal",
    "100.100.100.200",
    "169.254.170.2",
];

fn mentions_metadata(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    METADATA.iter().copied().find(|address| {
        lower.match_indices(address).any(|(at, _)| {
            // Not part of a longer name or address (`x169.254.169.2540`).
            let joins = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            !joins(lower[..at].chars().next_back())
                && !joins(lower[at + address.len()..].chars().next())
        })
    })
}

/// Each string that names a metadata address: its pointer, the address and the text.
fn walk<'v>(value: &'v Value, at: &str, out: &mut Vec<(String, &'static str, &'v str)>) {
    match value {
        Value::String(text) => {
            if let Some(address) = mentions_metadata(text) {
                out.push((at.to_owned(), address, text));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                walk(item, &pointer::push_index(at, index), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                walk(item, &pointer::push(at, key), out);
            }
        }
        _ => {}
    }
}

impl ObjectRule for MetadataAddress {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let value = &cx.object.value;
        let mut hits = Vec::new();
        match cx.object.kind() {
            "Service" => {
                for field in ["externalName", "externalIPs", "clusterIP", "clusterIPs"] {
                    if let Some(v) = value.at(&format!("/spec/{field}")) {
                        walk(v, &format!("/spec/{field}"), &mut hits);
                    }
                }
            }
            "Endpoints" => {
                if let Some(v) = value.get("subsets") {
                    walk(v, "/subsets", &mut hits);
                }
            }
            "EndpointSlice" => {
                if let Some(v) = value.get("endpoints") {
                    walk(v, "/endpoints", &mut hits);
                }
            }
            "Ingress" => {
                if let Some(v) = value.at("/metadata/annotations") {
                    walk(v, "/metadata/annotations", &mut hits);
                }
                if let Some(v) = value.get("spec") {
                    walk(v, "/spec", &mut hits);
                }
            }
            "VirtualService" => {
                let from_gateway = matches!(value.at("/spec/gateways"), Some(Value::Array(g))
                    if g.iter().any(|g| g.as_str() != Some("mesh")));
                if from_gateway {
                    if let Some(v) = value.at("/spec/http") {
                        walk(v, "/spec/http", &mut hits);
                    }
                    if let Some(v) = value.at("/spec/tcp") {
                        walk(v, "/spec/tcp", &mut hits);
                    }
                    if let Some(v) = value.at("/spec/tls") {
                        walk(v, "/spec/tls", &mut hits);
                    }
                }
            }
            _ => {
                if let Some(v) = value.get("spec") {
                    walk(v, "/spec", &mut hits);
                }
            }
        }
        for (at, address, text) in hits {
            // The frame shows the text: a URL with a password (`http://u:p@169.254.169.254`).
            let credential = find_credential(text).map(|c| c.value);
            out.push(
                Emit::new(
                    at,
                    format!(
                        "{} routes to the cloud metadata address {address}, which hands out node credentials; remove it",
                        cx.object.kind()
                    ),
                )
                .with_secrets(credential),
            );
        }
    }
}
