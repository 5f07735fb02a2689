use palisade_core::pointer;
use palisade_core::rule::Severity;
use serde_json::Value;

use super::find_credential;
use super::names::is_secret_name;
use super::LEAKED_CREDENTIAL_REFERENCES;
use crate::rules::util::{base64_decode, is_placeholder, is_test_data};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Secret objects committed with real values.
    pub struct SecretObject;
    checks: Object,
    id: "SEC003",
    slug: "secret-committed",
    title: "Secret with real data committed in a manifest",
    severity: Severity::High,
    category: "secrets",
    kinds: &["Secret"],
    summary: "A `Secret` has `data` or `stringData` values that hold a credential: a value \
that is not a placeholder (empty, not valid base64, `changeme`, `${VAR}`, `<password>`…) under a \
key that does not merely name something (`username`, `host`, `database`, `url`…), or a \
configuration file (a multi-line value) with a private key, a token in a known format or a \
`password:`-like entry. Certificates, plain configuration files and test-data folders are \
ignored.",
    rationale: "`data` is base64, not encryption: anyone who can read the repository, a CI log \
or a rendered bundle has the secret, and it stays in Git history after it is changed.",
    remediation: "Keep only a reference in Git: an `ExternalSecret` (External Secrets \
Operator) that fetches the value from Vault or a cloud secret manager, or a `SealedSecret` \
encrypted for the cluster. Rotate any value that was committed.",
    references: LEAKED_CREDENTIAL_REFERENCES,
    fix: None,
    credentials: true,
}

/// Keys that name an account or a location rather than hold a secret.
fn is_identifier_key(key: &str) -> bool {
    let flat: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    [
        "user",
        "username",
        "login",
        "db",
        "database",
        "dbname",
        "host",
        "hostname",
        "port",
        "address",
        "url",
        "endpoint",
        "region",
        "bucket",
        "accountname",
        "namespace",
        "crt",
        "cert",
        "ca",
    ]
    .iter()
    .any(|suffix| flat.ends_with(suffix))
}

/// Whether a configuration file holds a credential: a known format, or an entry such as
/// `password: …` or `api_key = …` with a real value.
fn config_has_secret(text: &str) -> bool {
    find_credential(text).is_some()
        || text.lines().any(|line| {
            let Some((key, value)) = line.split_once([':', '=']) else {
                return false;
            };
            let key = key.trim().trim_matches(['"', '\'', '-', ' ']);
            let value = value.trim().trim_matches(['"', '\'', ',']);
            is_secret_name(key) && !value.is_empty() && !is_placeholder(value)
        })
}

/// Whether a decoded value is a credential.
fn is_credential(key: &str, text: &str) -> bool {
    if text.trim_end().contains('\n') {
        config_has_secret(text)
    } else {
        !is_identifier_key(key) && !is_placeholder(text)
    }
}

impl ObjectRule for SecretObject {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let value = &cx.object.value;
        if is_test_data(cx.object) {
            return;
        }
        if value.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
        {
            return;
        }
        let mut real = Vec::new();
        let mut secrets = Vec::new();
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(Value::Object(entries)) = value.get(field) else {
                continue;
            };
            for (key, entry) in entries {
                let Some(text) = entry.as_str() else { continue };
                let (is_real, decoded) = if encoded {
                    match base64_decode(text).map(String::from_utf8) {
                        Some(Ok(decoded)) => (is_credential(key, &decoded), Some(decoded)),
                        // Binary content (a keystore) is a credential; invalid base64 is a
                        // placeholder such as `<base64-encoded-password>`.
                        Some(Err(_)) => (true, None),
                        None => (false, None),
                    }
                } else {
                    (is_credential(key, text), None)
                };
                if is_real {
                    real.push((pointer::push(&format!("/{field}"), key), key.as_str()));
                    secrets.push(text.to_owned());
                    secrets.extend(decoded);
                }
            }
        }
        let Some((first, _)) = real.first() else {
            return;
        };
        let keys: Vec<&str> = real.iter().map(|(_, k)| *k).collect();
        out.push(
            Emit::new(
                first.clone(),
                format!(
                    "Secret \"{}\" is committed with values for {}; deliver it with External Secrets or Sealed Secrets and rotate it",
                    cx.object.name(),
                    keys.join(", ")
                ),
            )
            .with_secrets(secrets),
        );
    }
}
