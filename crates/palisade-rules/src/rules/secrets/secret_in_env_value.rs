use palisade_core::rule::Severity;
use serde_json::Value;

use super::names::{is_not_secret_value, is_secret_name};
use super::LEAKED_CREDENTIAL_REFERENCES;
use crate::rules::util::{describe, is_test_data};
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
    references: LEAKED_CREDENTIAL_REFERENCES,
    fix: None,
    credentials: true,
}

impl ObjectRule for EnvLiteralSecret {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        if is_test_data(cx.object) {
            return;
        }
        for container in &cx.containers {
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
                            describe(container)
                        ),
                    )
                    .with_secret(value),
                );
            }
        }
    }
}
