use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// `emptyDir` volumes without a size limit.
    pub struct EmptyDirSizeLimit;
    checks: Object,
    id: "POD015",
    slug: "empty-dir-size-limit",
    title: "emptyDir volume has no size limit",
    severity: Severity::Low,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "An `emptyDir` volume does not set `sizeLimit`.",
    rationale: "An `emptyDir` lives on the node's disk (or in its memory with `medium: Memory`). \
Without a limit one pod can fill the node's ephemeral storage or memory and get its neighbours \
evicted.",
    remediation: "Set a `sizeLimit` that fits the use:\n\n```yaml\nvolumes:\n- name: tmp\n  \
emptyDir:\n    sizeLimit: 64Mi\n```",
    references: &[
        Reference::new(Framework::NsaCisa, "Pod security: resource policies"),
        Reference::url(
            Framework::Mitre,
            "T1499",
            "https://attack.mitre.org/techniques/T1499/",
        ),
    ],
    fix: None,
}

impl ObjectRule for EmptyDirSizeLimit {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        let Some(Value::Array(volumes)) = spec.spec.get("volumes") else {
            return;
        };
        for (index, volume) in volumes.iter().enumerate() {
            let Some(empty_dir) = volume.get("emptyDir") else {
                continue;
            };
            if empty_dir.get("sizeLimit").is_some_and(|v| !v.is_null()) {
                continue;
            }
            let name = volume.get("name").and_then(Value::as_str).unwrap_or("");
            let memory = empty_dir.get("medium").and_then(Value::as_str) == Some("Memory");
            let emit = Emit::new(
                format!("{}/volumes/{index}/emptyDir", spec.pointer),
                format!(
                    "emptyDir volume \"{name}\"{} has no sizeLimit; set one",
                    if memory { " (in memory)" } else { "" }
                ),
            );
            out.push(if memory {
                emit.with_severity(Severity::Medium)
            } else {
                emit
            });
        }
    }
}
