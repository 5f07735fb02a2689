//! Names that say they hold a credential (`DB_PASSWORD`, `api-key`), and literal values that
//! are configuration rather than a credential: one classification for environment variables,
//! ConfigMap keys and Secret keys.

use crate::rules::util::is_placeholder;

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
pub fn is_not_secret_value(name: &str, value: &str) -> bool {
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
