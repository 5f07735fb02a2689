use palisade_core::pointer;
use palisade_core::pointer::At;
use palisade_core::rule::Severity;
use serde_json::Value;

use super::LEAKED_CREDENTIAL_REFERENCES;
use super::{find_credential, image_password};
use crate::rules::util::{describe, is_test_data};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule, RequestObject};

declare_rule! {
    /// Credentials in known formats in ConfigMaps, environment values, annotations and images.
    pub struct CredentialFormat;
    checks: Object,
    id: "SEC002",
    slug: "credential-in-manifest",
    title: "Manifest contains a credential in a known format",
    severity: Severity::High,
    category: "secrets",
    kinds: &["*"],
    summary: "A ConfigMap value, a container's `env` value or an annotation contains a private \
key (PEM), an AWS access key ID, a GitHub, Slack or Google API token, a Slack webhook, a JSON \
Web Token or a URL with a password (`scheme://user:password@host`), or a container image is \
written with a password (`user:password@registry/app`). Documented example values, placeholders (`${PASSWORD}`), values made of few distinct characters \
and files under test-data folders (`test/`, `tests/`, `testdata/`, `fixtures/`) are ignored.",
    rationale: "ConfigMaps, pod specs and annotations are readable by everyone with `get` on \
them (often every developer and many controllers), are printed by `kubectl describe`, and live \
in Git history forever. A key committed there must be considered leaked.",
    remediation: "Revoke and rotate the credential, remove it from the manifest and its Git \
history, and deliver it from a secret manager (External Secrets Operator, Sealed Secrets, the \
Secrets Store CSI driver) into a Secret mounted as a file.",
    references: LEAKED_CREDENTIAL_REFERENCES,
    fix: None,
    credentials: true,
}

impl ObjectRule for CredentialFormat {
    /// Only ConfigMaps, objects with pods and annotations hold what the rule reads.
    fn may_report_request_object(&self, object: &RequestObject<'_>) -> bool {
        object.kind == "ConfigMap"
            || palisade_core::views::pod_spec_location(object.kind).is_some()
            || object.has_annotations()
    }

    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if is_test_data(cx.object) {
            return;
        }
        let value = &cx.object.value;
        if let Some(Value::Object(annotations)) = value.at("/metadata/annotations") {
            for (key, text) in annotations {
                let Some(found) = text.as_str().and_then(find_credential) else {
                    continue;
                };
                out.push(
                    Emit::new(
                        pointer::push("/metadata/annotations", key),
                        format!("annotation \"{key}\" contains {}; rotate it and keep it in a secret manager", found.kind),
                    )
                    .with_secret(found.value),
                );
            }
        }
        if cx.object.kind() == "ConfigMap" {
            if let Some(Value::Object(data)) = value.get("data") {
                for (key, text) in data {
                    let Some(found) = text.as_str().and_then(find_credential) else {
                        continue;
                    };
                    out.push(
                        Emit::new(
                            pointer::push("/data", key),
                            format!("ConfigMap key \"{key}\" contains {}; rotate it and keep it in a Secret fed by a secret manager", found.kind),
                        )
                        .with_secret(found.value),
                    );
                }
            }
        }
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            if let Some(password) = container
                .container
                .get("image")
                .and_then(Value::as_str)
                .and_then(image_password)
            {
                out.push(
                    Emit::new(
                        container.field("image"),
                        format!("{} names its image with a password; rotate it and give the registry credentials in imagePullSecrets", describe(container)),
                    )
                    .with_secret(password),
                );
            }
            let Some(Value::Array(env)) = container.container.get("env") else {
                continue;
            };
            for (index, var) in env.iter().enumerate() {
                let Some(found) = var
                    .get("value")
                    .and_then(Value::as_str)
                    .and_then(find_credential)
                else {
                    continue;
                };
                let name = var.get("name").and_then(Value::as_str).unwrap_or("");
                out.push(
                    Emit::new(
                        container.field(&format!("env/{index}/value")),
                        format!("environment variable \"{name}\" of container \"{}\" contains {}; rotate it and use a Secret", container.name(), found.kind),
                    )
                    .with_secret(found.value),
                );
            }
        }
    }
}
