use palisade_core::pointer;
use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// PeerAuthentications that accept plain-text traffic.
    pub struct PeerAuthenticationNotStrict;
    checks: Object,
    id: "MESH003",
    slug: "mtls-not-strict",
    title: "PeerAuthentication accepts plain-text traffic",
    severity: Severity::Medium,
    category: "mesh",
    kinds: &["PeerAuthentication"],
    summary: "An Istio `PeerAuthentication` sets `mtls.mode` or a `portLevelMtls` mode to \
`PERMISSIVE` or `DISABLE`. A port-level `PERMISSIVE` on an admission webhook (the policy's name \
or selector says `webhook`) is not reported: the API server calls webhooks from outside the \
mesh and cannot present a mesh certificate.",
    rationale: "In `PERMISSIVE` mode the sidecar accepts plain text next to mutual TLS, so any \
pod or node outside the mesh can call the workload without an identity, and authorization \
policies on principals and namespaces do not apply to it. `DISABLE` turns mTLS off.",
    remediation: "Move every client into the mesh, then set `STRICT`:\n\n```yaml\nspec:\n  \
mtls:\n    mode: STRICT\n```\n\nA port that must stay plain (a metrics scrape from outside the \
mesh) is better served on a separate, non-sensitive port with a suppression and a reason.",
    references: &[
        Reference::url(
            Framework::Docs,
            "Istio PeerAuthentication",
            "https://istio.io/latest/docs/reference/config/security/peer_authentication/",
        ),
        Reference::new(
            Framework::NsaCisa,
            "Network separation and hardening: encryption",
        ),
        Reference::url(
            Framework::Mitre,
            "T1557",
            "https://attack.mitre.org/techniques/T1557/",
        ),
    ],
    fix: None,
}

fn weak(mode: Option<&str>) -> Option<&str> {
    mode.filter(|m| matches!(*m, "PERMISSIVE" | "DISABLE"))
}

impl ObjectRule for PeerAuthenticationNotStrict {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.group() != "security.istio.io" {
            return;
        }
        let value = &cx.object.value;
        if let Some(mode) = weak(value.at("/spec/mtls/mode").and_then(Value::as_str)) {
            out.push(Emit::new(
                "/spec/mtls/mode",
                format!("mTLS mode {mode} accepts plain-text traffic; set STRICT"),
            ));
        }
        let webhook = cx.object.name().contains("webhook")
            || value
                .at("/spec/selector/matchLabels")
                .and_then(Value::as_object)
                .is_some_and(|labels| {
                    labels
                        .values()
                        .filter_map(Value::as_str)
                        .any(|v| v.contains("webhook"))
                });
        if let Some(Value::Object(ports)) = value.at("/spec/portLevelMtls") {
            for (port, setting) in ports {
                let Some(mode) = weak(setting.get("mode").and_then(Value::as_str)) else {
                    continue;
                };
                if webhook && mode == "PERMISSIVE" {
                    continue;
                }
                out.push(Emit::new(
                    format!("{}/mode", pointer::push("/spec/portLevelMtls", port)),
                    format!("port {port} uses mTLS mode {mode}, which accepts plain-text traffic; set STRICT"),
                ));
            }
        }
    }
}
