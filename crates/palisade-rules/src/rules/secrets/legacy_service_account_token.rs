use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::base64_decode;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Long-lived service-account token Secrets.
    pub struct LegacyTokenSecret;
    checks: Object,
    id: "SEC004",
    slug: "legacy-service-account-token",
    title: "Long-lived service account token Secret",
    severity: Severity::Medium,
    category: "secrets",
    kinds: &["Secret"],
    summary: "A `Secret` of type `kubernetes.io/service-account-token`.",
    rationale: "The token controller fills such a Secret with a token that never expires and \
stays valid until the Secret is deleted. Whoever reads it once (anyone with `get secrets` in \
the namespace, a backup, a log) keeps the service account's access indefinitely.",
    remediation: "Delete the Secret. Pods get short-lived, audience-bound tokens automatically; \
external clients can request one with `kubectl create token` or the TokenRequest API, or use a \
projected `serviceAccountToken` volume with an `expirationSeconds`.",
    references: &[
        Reference::new(Framework::Cis, "5.1.6"),
        Reference::new(
            Framework::NsaCisa,
            "Authentication and authorization: service account tokens",
        ),
        Reference::url(
            Framework::Mitre,
            "T1528",
            "https://attack.mitre.org/techniques/T1528/",
        ),
    ],
    fix: None,
    credentials: true,
}

impl ObjectRule for LegacyTokenSecret {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.value.get("type").and_then(Value::as_str)
            != Some("kubernetes.io/service-account-token")
        {
            return;
        }
        let account = cx
            .object
            .annotation("kubernetes.io/service-account.name")
            .unwrap_or("");
        // A Secret read back from a cluster carries the token the controller filled in.
        let token = cx
            .object
            .value
            .pointer("/data/token")
            .and_then(Value::as_str);
        let decoded = token
            .and_then(base64_decode)
            .and_then(|bytes| String::from_utf8(bytes).ok());
        out.push(
            Emit::new(
                "/type",
                format!(
                    "Secret holds a non-expiring token for service account \"{account}\"; use short-lived tokens (TokenRequest, projected volumes) instead"
                ),
            )
            .with_secrets(token.map(str::to_owned).into_iter().chain(decoded)),
        );
    }
}
