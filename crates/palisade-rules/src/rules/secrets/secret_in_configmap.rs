use palisade_core::pointer;
use palisade_core::rule::Severity;
use serde_json::Value;

use super::find_credential;
use super::names::{is_not_secret_value, is_secret_name};
use super::LEAKED_CREDENTIAL_REFERENCES;
use crate::rules::util::is_test_data;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// ConfigMap keys named like a credential that hold a literal value.
    pub struct SecretInConfigmap;
    checks: Object,
    id: "SEC006",
    slug: "secret-in-configmap",
    title: "ConfigMap holds a credential under a password-like key",
    severity: Severity::High,
    category: "secrets",
    kinds: &["ConfigMap"],
    summary: "A ConfigMap's `data` has a key whose whole name says it holds a secret \
(`db_password`, `api-key`, `client.secret`, `AUTH_TOKEN`…), named and judged as environment \
variables are by the secret-in-env-value rule (SEC001), with a literal single-line value. Names \
that refer to a secret rather than hold one (`*_file`, `*_path`, `*_name`, `*_url`, `*_id`…), \
placeholder values (empty, `${VAR}`, `changeme`, `<password>`, `1234…`), numbers, booleans, \
paths and files under test-data folders are ignored. A value in a known credential format is \
left to the credential-in-manifest rule (SEC002). Multi-line values (configuration files such \
as `application.properties` embedded under one key) are not searched for `password=` entries.",
    rationale: "ConfigMaps are not treated as confidential: they are readable by everyone with \
`get` or `list` on them (often every developer and many controllers), printed by \
`kubectl describe`, not encrypted at rest, and kept in Git history.",
    remediation: "Move the value into a Secret (fed by a secret manager) and read it from \
there:\n\n```yaml\nenv:\n- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef: {name: db, key: password}\n```",
    references: LEAKED_CREDENTIAL_REFERENCES,
    fix: None,
    credentials: true,
}

impl ObjectRule for SecretInConfigmap {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if is_test_data(cx.object) {
            return;
        }
        let Some(Value::Object(data)) = cx.object.value.get("data") else {
            return;
        };
        for (key, value) in data {
            let Some(value) = value.as_str() else {
                continue;
            };
            let literal = value.trim_end_matches(['\n', '\r']);
            if literal.contains('\n')
                || !is_secret_name(key)
                || is_not_secret_value(key, literal)
                || find_credential(literal).is_some()
            {
                continue;
            }
            out.push(
                Emit::new(
                    pointer::push("/data", key),
                    format!(
                        "ConfigMap key \"{key}\" holds a literal credential; move it into a Secret"
                    ),
                )
                .with_secret(literal),
            );
        }
    }
}
