//! What the encryption rules share: the resources and providers of an `EncryptionConfiguration`
//! (`apiserver.config.k8s.io/v1`), the file `--encryption-provider-config` names.

use palisade_core::Object;
use serde_json::Value;

/// The providers that encrypt with keys listed in the file, and the key sizes (bytes) each one
/// accepts.
pub const KEYED: &[(&str, &[usize])] = &[
    ("aescbc", &[16, 24, 32]),
    ("aesgcm", &[16, 24, 32]),
    ("secretbox", &[32]),
];

/// One provider of one resources entry.
pub struct Provider<'a> {
    /// `aescbc`, `kms`, `identity`…
    pub name: &'a str,
    pub config: &'a Value,
    /// The pointer of the provider entry (`/resources/0/providers/1`).
    pub pointer: String,
}

/// One `resources` entry: its index, its resources and its providers in order.
pub type Entry<'a> = (usize, Vec<&'a str>, Vec<Provider<'a>>);

/// The `resources` entries of an `EncryptionConfiguration`; `None` for another object.
pub fn entries(object: &Object) -> Option<Vec<Entry<'_>>> {
    if object.group() != "apiserver.config.k8s.io" || object.kind() != "EncryptionConfiguration" {
        return None;
    }
    let list = object.value.get("resources").and_then(Value::as_array);
    Some(
        list.into_iter()
            .flatten()
            .enumerate()
            .map(|(i, entry)| {
                let resources = entry
                    .get("resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let providers = entry
                    .get("providers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                    .filter_map(|(j, p)| {
                        let (name, config) = p.as_object()?.iter().next()?;
                        Some(Provider {
                            name,
                            config,
                            pointer: format!("/resources/{i}/providers/{j}"),
                        })
                    })
                    .collect();
                (i, resources, providers)
            })
            .collect(),
    )
}

/// Whether a resources entry covers Secrets (`secrets`, `*.`, `*.*`).
pub fn covers_secrets(resources: &[&str]) -> bool {
    resources
        .iter()
        .any(|r| matches!(*r, "secrets" | "secrets." | "*." | "*.*"))
}

/// The keys of a keyed provider: (index, name, secret).
pub fn keys<'a>(provider: &Provider<'a>) -> Vec<(usize, &'a str, &'a str)> {
    provider
        .config
        .get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(k, key)| {
            Some((
                k,
                key.get("name").and_then(Value::as_str).unwrap_or(""),
                key.get("secret")?.as_str()?,
            ))
        })
        .collect()
}
