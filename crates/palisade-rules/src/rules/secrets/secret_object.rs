use palisade_core::pointer;
use palisade_core::rule::{Framework, Reference, RuleMeta, Severity};
use serde_json::Value;

use crate::rules::util::{base64_decode, is_placeholder};
use crate::{Emit, ObjectCx, Rule};

/// Secret objects committed with real values.
pub struct SecretObject;

static META: RuleMeta = RuleMeta {
    id: "SEC003",
    slug: "secret-committed",
    title: "Secret with real data committed in a manifest",
    severity: Severity::High,
    category: "secrets",
    kinds: &["Secret"],
    summary: "A `Secret` has `data` or `stringData` values that are not placeholders (empty, \
not valid base64, `changeme`, `${VAR}`, `<password>`…).",
    rationale: "`data` is base64, not encryption: anyone who can read the repository, a CI log \
or a rendered bundle has the secret, and it stays in Git history after it is changed.",
    remediation: "Keep only a reference in Git: an `ExternalSecret` (External Secrets \
Operator) that fetches the value from Vault or a cloud secret manager, or a `SealedSecret` \
encrypted for the cluster. Rotate any value that was committed.",
    references: &[
        Reference::new(Framework::Cis, "5.4.1"),
        Reference::new(Framework::NsaCisa, "Secrets: protect sensitive data"),
        Reference::url(
            Framework::Mitre,
            "T1552.007",
            "https://attack.mitre.org/techniques/T1552/007/",
        ),
    ],
    fixable: false,
};

/// Whether a `data` value (base64) holds something other than a placeholder.
fn is_real_data(value: &str) -> bool {
    let Some(bytes) = base64_decode(value) else {
        return false;
    };
    match String::from_utf8(bytes) {
        Ok(text) => !is_placeholder(&text),
        Err(_) => true,
    }
}

impl Rule for SecretObject {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let value = &cx.object.value;
        if value.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
        {
            return;
        }
        let mut real = Vec::new();
        for (field, encoded) in [("data", true), ("stringData", false)] {
            let Some(Value::Object(entries)) = value.get(field) else {
                continue;
            };
            for (key, entry) in entries {
                let Some(text) = entry.as_str() else { continue };
                let is_real = if encoded {
                    is_real_data(text)
                } else {
                    !is_placeholder(text)
                };
                if is_real {
                    real.push((pointer::push(&format!("/{field}"), key), key.as_str()));
                }
            }
        }
        let Some((first, _)) = real.first() else {
            return;
        };
        let keys: Vec<&str> = real.iter().map(|(_, k)| *k).collect();
        out.push(Emit::new(
            first.clone(),
            format!(
                "Secret \"{}\" is committed with values for {}; deliver it with External Secrets or Sealed Secrets and rotate it",
                cx.object.name(),
                keys.join(", ")
            ),
        ));
    }
}
