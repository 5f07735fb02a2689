use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, is_placeholder, is_test_data, pod};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Secret-looking environment variables with literal values.
    pub struct EnvLiteralSecret;
    checks: Object,
    id: "SEC001",
    slug: "secret-in-env-value",
    title: "Secret written as a literal environment value",
    severity: Severity::High,
    category: "secrets",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container's `env` entry whose name says it holds a secret (`PASSWORD`, `TOKEN`, \
`SECRET`, `API_KEY`, `ACCESS_KEY`, `PRIVATE_KEY`, `CREDENTIALS`…) has a literal `value`. Names \
that refer to a secret rather than hold one (`*_FILE`, `*_PATH`, `*_NAME`, `*_URL`, `*_ID`…), \
names that hold a user name (`*_USER`, `*_USERNAME`, and the access key of an S3-style store, \
`MINIO_ACCESS_KEY`, `S3_ACCESS_KEY`, `AWS_ACCESS_KEY`, which is the key ID; the secret key that \
goes with it, `MINIO_SECRET_KEY` or `AWS_SECRET_ACCESS_KEY`, is reported) and placeholder values (empty, `${VAR}`, `$(VAR)`, `changeme`, `<password>`, `1234…`) are ignored, \
and so are files under test-data folders.",
    rationale: "The value is stored in the workload object, readable by everyone with `get` on \
Deployments or Pods, shown by `kubectl describe`, copied into every ReplicaSet and kept in Git \
history.",
    remediation: "Move the value into a Secret (fed by a secret manager) and reference it:\n\n\
```yaml\nenv:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: {name: db, key: password}\n```",
    references: &[
        Reference::new(Framework::Cis, "5.4.1"),
        Reference::new(Framework::NsaCisa, "Secrets: protect sensitive data"),
        Reference::url(
            Framework::Mitre,
            "T1552.007",
            "https://attack.mitre.org/techniques/T1552/007/",
        ),
    ],
    fix: None,
    credentials: true,
}

/// Name words that mark a variable as holding a secret.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATEKEY",
];
/// Pairs of consecutive words that do.
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("API", "KEY"),
    ("ACCESS", "KEY"),
    ("PRIVATE", "KEY"),
    ("SECRET", "KEY"),
    ("AUTH", "KEY"),
    ("DB", "PWD"),
    ("DB", "PASS"),
];
/// Final name words of variables that point at a secret or configure its handling.
const REFERENCE_WORDS: &[&str] = &[
    "FILE",
    "PATH",
    "DIR",
    "NAME",
    "REF",
    "ENABLED",
    "ENABLE",
    "LENGTH",
    "TTL",
    "EXPIRY",
    "EXPIRATION",
    "HEADER",
    "MOUNT",
    "LOCATION",
    "URL",
    "URI",
    "ENDPOINT",
    "TYPE",
    "ID",
    "MIN",
    "MAX",
    "LIFETIME",
    "TIMEOUT",
    "DURATION",
    "AUDIENCE",
    "ISSUER",
    "SCOPE",
    "VERSION",
    "MODE",
    "POLICY",
    "PREFIX",
    "FORMAT",
    "KIND",
    "INTERVAL",
    "PERIOD",
    "SIZE",
    "COUNT",
    "PORT",
    "HOST",
    "NAMESPACE",
    "KEY_ID",
    "PROVIDER",
    "STORE",
    "SOURCE",
    "REQUIRED",
    "ALGORITHM",
    "USER",
    "USERNAME",
];
/// Stores whose access key is the user name (the key ID), paired with a secret key that is the
/// secret: `MINIO_ACCESS_KEY`, `S3_ACCESS_KEY`, `AWS_ACCESS_KEY`. Elsewhere an access key is a
/// secret (Sysdig's `ACCESS_KEY`, Azure's `AZURE_STORAGE_ACCESS_KEY`).
const KEY_ID_STORES: &[&str] = &["MINIO", "S3", "AWS"];

/// Whether an environment variable name says it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let words: Vec<String> = name
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    let Some(last) = words.last() else {
        return false;
    };
    if REFERENCE_WORDS.contains(&last.as_str()) {
        return false;
    }
    words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
        || words.windows(2).enumerate().any(|(i, pair)| {
            let pair = (pair[0].as_str(), pair[1].as_str());
            SECRET_PAIRS.contains(&pair)
                && !(pair == ("ACCESS", "KEY")
                    && i > 0
                    && KEY_ID_STORES.contains(&words[i - 1].as_str()))
        })
}

/// Whether a literal value is configuration rather than a secret: a placeholder, a number, a
/// boolean, a path, or the variable's own name or one of the secret words (`SECRET`).
fn is_not_secret_value(name: &str, value: &str) -> bool {
    let v = value.trim();
    let upper = v.to_ascii_uppercase();
    is_placeholder(v)
        || upper == name.to_ascii_uppercase()
        || SECRET_WORDS.contains(&upper.as_str())
        || v.parse::<f64>().is_ok()
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "none" | "null" | "disabled"
        )
        || v.starts_with('/')
        || v.starts_with("./")
}

impl ObjectRule for EnvLiteralSecret {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = pod(cx.object) else { return };
        if is_test_data(cx.object) {
            return;
        }
        for container in spec.containers() {
            let Some(Value::Array(env)) = container.container.get("env") else {
                continue;
            };
            for (index, var) in env.iter().enumerate() {
                let name = var.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(value) = var.get("value").and_then(Value::as_str) else {
                    continue;
                };
                if !is_secret_name(name) || is_not_secret_value(name, value) {
                    continue;
                }
                out.push(
                    Emit::new(
                        container.field(&format!("env/{index}/value")),
                        format!(
                            "{} sets {name} to a literal value; reference a Secret with valueFrom.secretKeyRef",
                            describe(&container)
                        ),
                    )
                    .with_secret(value),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_secret_name;

    #[test]
    fn classifies_names() {
        for name in [
            "DB_PASSWORD",
            "api-key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "client.secret",
            "MINIO_SECRET_KEY",
            "MINIO_ROOT_PASSWORD",
            "AZURE_STORAGE_ACCESS_KEY",
            "ACCESS_KEY",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "PASSWORD_FILE",
            "TOKEN_URL",
            "SECRET_NAME",
            "PWD",
            "AWS_ACCESS_KEY_ID",
            "KEYCLOAK_HOST",
            "MINIO_ACCESS_KEY",
            "MINIO_ROOT_USER",
            "S3_ACCESS_KEY",
            "AWS_ACCESS_KEY",
            "DB_USERNAME",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }
}
