use palisade_core::pointer;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Ingress annotations that write ingress-nginx configuration.
    pub struct IngressNginxConfigInjection;
    checks: Object,
    id: "SVC006",
    slug: "ingress-nginx-config-injection",
    title: "Ingress annotation injects ingress-nginx configuration",
    severity: Severity::High,
    category: "exposure",
    kinds: &["Ingress"],
    summary: "An Ingress has an ingress-nginx annotation that puts its text into the nginx \
configuration of the controller: any `nginx.ingress.kubernetes.io/*-snippet` annotation \
(`configuration-snippet`, `server-snippet`, `auth-snippet`, `stream-snippet`, \
`modsecurity-snippet`, …), whatever its value; or `auth-url`, `auth-tls-match-cn`, \
`mirror-target` or `mirror-host` whose value holds a character that ends or opens an nginx \
directive or string (`;`, `{`, `}`, a quote, a backslash, `#` or a line break). Ordinary URLs \
and names in the second group, including nginx variables such as `$host`, are not reported. \
The finding points at the annotation's key.",
    rationale: "ingress-nginx copies these annotations into the configuration of the \
controller, which serves every Ingress of the cluster and, in the default installation, can \
read every Secret. A snippet is raw configuration by design: whoever may write an Ingress can \
make nginx serve files of the controller, its service account token and the TLS keys of other \
tenants (CVE-2021-25742, CVE-2023-5043). The other annotations were meant to hold a URL or a \
name; values that break out of them injected configuration and code (CVE-2025-24514, \
CVE-2025-1097, CVE-2025-1098), which the unauthenticated admission webhook runs before the \
object is even stored (CVE-2025-1974).",
    remediation: "Remove the snippet and use the dedicated annotation or a ConfigMap setting \
chosen by the cluster administrator. Keep `allow-snippet-annotations: \"false\"` and \
`annotations-risk-level` below `Critical` in the controller's ConfigMap, run ingress-nginx \
v1.11.5, v1.12.1 or later, and give `auth-url`, `auth-tls-match-cn`, `mirror-target` and \
`mirror-host` plain values:\n\n```yaml\nmetadata:\n  annotations:\n    \
nginx.ingress.kubernetes.io/auth-url: \"https://auth.example.com/oauth2/auth\"\n```",
    references: &[
        Reference::url(
            Framework::Cve,
            "CVE-2021-25742",
            "https://github.com/kubernetes/ingress-nginx/issues/7837",
        ),
        Reference::url(
            Framework::Cve,
            "CVE-2025-1974",
            "https://github.com/kubernetes/kubernetes/issues/131009",
        ),
        Reference::url(
            Framework::Cve,
            "CVE-2025-24514",
            "https://github.com/kubernetes/kubernetes/issues/131006",
        ),
        Reference::url(
            Framework::Cve,
            "CVE-2025-1097",
            "https://github.com/kubernetes/kubernetes/issues/131007",
        ),
        Reference::url(
            Framework::Cve,
            "CVE-2025-1098",
            "https://github.com/kubernetes/kubernetes/issues/131008",
        ),
        Reference::url(
            Framework::Mitre,
            "T1190",
            "https://attack.mitre.org/techniques/T1190/",
        ),
    ],
    fix: None,
}

const PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// Annotations meant to hold a URL or a name, whose values were copied into the nginx
/// configuration without sanitising them, with the CVE of each.
const UNSANITISED: &[(&str, &str)] = &[
    ("auth-url", "CVE-2025-24514"),
    ("auth-tls-match-cn", "CVE-2025-1097"),
    ("mirror-target", "CVE-2025-1098"),
    ("mirror-host", "CVE-2025-1098"),
];

/// Characters that end or open an nginx directive, block, string or comment.
fn breaks_out(value: &str) -> Option<char> {
    value
        .chars()
        .find(|c| matches!(c, ';' | '{' | '}' | '"' | '\'' | '\\' | '#' | '\n' | '\r'))
}

impl ObjectRule for IngressNginxConfigInjection {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if !matches!(cx.object.group(), "networking.k8s.io" | "extensions") {
            return;
        }
        let Some(Value::Object(annotations)) = cx.object.value.pointer("/metadata/annotations")
        else {
            return;
        };
        for (key, value) in annotations {
            let Some(name) = key.strip_prefix(PREFIX) else {
                continue;
            };
            let at = pointer::push("/metadata/annotations", key);
            if name.ends_with("-snippet") {
                out.push(Emit::new(
                    at,
                    format!(
                        "annotation {name} writes raw nginx configuration into the ingress \
controller, which can read every Secret (CVE-2021-25742); use a dedicated annotation instead"
                    ),
                ));
            } else if let Some((_, cve)) = UNSANITISED.iter().find(|(n, _)| *n == name) {
                let Some(c) = value.as_str().and_then(breaks_out) else {
                    continue;
                };
                out.push(Emit::new(
                    at,
                    format!(
                        "annotation {name} holds {c:?}, which ends or opens nginx \
configuration: its value injects directives into the ingress controller ({cve}); give it a \
plain URL or name"
                    ),
                ));
            }
        }
    }
}
