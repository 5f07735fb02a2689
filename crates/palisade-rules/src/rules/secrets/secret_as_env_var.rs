use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Secrets handed to containers as environment variables.
    pub struct SecretEnvVar;
    checks: Object,
    id: "SEC005",
    slug: "secret-as-env-var",
    title: "Secret exposed as an environment variable",
    severity: Severity::Info,
    category: "secrets",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container reads a Secret through `env[].valueFrom.secretKeyRef` or \
`envFrom[].secretRef`.",
    rationale: "Environment variables leak more easily than files: they are inherited by every \
child process, dumped in crash reports and debug endpoints, visible in `/proc/<pid>/environ` to \
anything sharing the process namespace, and they never update when the Secret rotates. A \
mounted Secret volume avoids all of that.",
    remediation: "Mount the Secret as a read-only volume and read the file:\n\n```yaml\n\
volumeMounts:\n- {name: db, mountPath: /etc/db, readOnly: true}\nvolumes:\n- name: db\n  secret:\n    \
secretName: db\n```\n\nKeep environment variables where the program only accepts them.",
    references: &[
        Reference::new(Framework::Cis, "5.4.1"),
        Reference::new(Framework::NsaCisa, "Secrets: protect sensitive data"),
    ],
    fix: None,
}

impl ObjectRule for SecretEnvVar {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            if let Some(Value::Array(env)) = container.container.get("env") {
                for (index, var) in env.iter().enumerate() {
                    let Some(secret) = var.at("/valueFrom/secretKeyRef") else {
                        continue;
                    };
                    let name = var.get("name").and_then(Value::as_str).unwrap_or("");
                    let secret_name = secret.get("name").and_then(Value::as_str).unwrap_or("");
                    out.push(Emit::new(
                        container.field(&format!("env/{index}/valueFrom/secretKeyRef")),
                        format!(
                            "{} reads Secret \"{secret_name}\" into environment variable {name}; prefer a mounted Secret volume",
                            describe(container)
                        ),
                    ));
                }
            }
            if let Some(Value::Array(sources)) = container.container.get("envFrom") {
                for (index, source) in sources.iter().enumerate() {
                    let Some(secret) = source.get("secretRef") else {
                        continue;
                    };
                    let secret_name = secret.get("name").and_then(Value::as_str).unwrap_or("");
                    out.push(Emit::new(
                        container.field(&format!("envFrom/{index}/secretRef")),
                        format!(
                            "{} loads every key of Secret \"{secret_name}\" as environment variables; prefer a mounted Secret volume",
                            describe(container)
                        ),
                    ));
                }
            }
        }
    }
}
