use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use palisade_core::Object;
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Ingresses that serve plain HTTP.
    pub struct IngressWithoutTls;
    checks: Object,
    id: "SVC004",
    slug: "ingress-without-tls",
    title: "Ingress has no TLS",
    severity: Severity::Medium,
    category: "exposure",
    kinds: &["Ingress"],
    summary: "An `Ingress` has no `spec.tls` entry.",
    rationale: "Without TLS the ingress serves plain HTTP: credentials, session cookies and API \
tokens cross the network in clear text and can be read or altered on the way.",
    remediation: "Add a TLS section with a certificate (cert-manager issues and renews one):\n\n\
```yaml\nspec:\n  tls:\n  - hosts: [app.example.com]\n    secretName: app-tls\n```",
    references: &[
        Reference::new(
            Framework::NsaCisa,
            "Network separation and hardening: encryption",
        ),
        Reference::url(
            Framework::Mitre,
            "T1040",
            "https://attack.mitre.org/techniques/T1040/",
        ),
    ],
    fix: None,
}

/// Whether an object is a Kubernetes Ingress, and whether it has a `spec.tls` entry.
pub(crate) fn ingress_tls(object: &Object) -> Option<bool> {
    if !matches!(object.group(), "networking.k8s.io" | "extensions") {
        return None;
    }
    Some(matches!(object.value.at("/spec/tls"), Some(Value::Array(tls)) if !tls.is_empty()))
}

impl ObjectRule for IngressWithoutTls {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if ingress_tls(cx.object) == Some(false) {
            out.push(Emit::new(
                "/spec/tls",
                "Ingress serves plain HTTP; add a spec.tls entry with a certificate",
            ));
        }
    }
}
