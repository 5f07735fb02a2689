use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Keys that appear twice in one mapping.
    pub struct DuplicateKey;
    checks: Object,
    id: "YAML001",
    slug: "duplicate-key",
    title: "Mapping has a duplicate key",
    severity: Severity::High,
    category: "input",
    kinds: &["*"],
    summary: "A key appears twice in the same YAML mapping.",
    rationale: "Kubernetes keeps the last value and drops the first without an error, so what a \
reviewer reads is not what the cluster runs: a `privileged: false` early in a block can be \
overridden by a `privileged: true` further down. Duplicate keys also hide merge mistakes.",
    remediation: "Delete one of the two keys, keeping the value you mean. palisade reports the \
other rules against the value that wins (the last one), as the API server applies it.",
    references: &[Reference::url(
        Framework::Docs,
        "Strict field validation",
        "https://kubernetes.io/docs/reference/using-api/api-concepts/#field-validation",
    )],
    fix: None,
}

impl ObjectRule for DuplicateKey {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        for dup in &cx.object.duplicate_keys {
            out.push(Emit::new(
                dup.pointer.clone(),
                format!(
                    "key \"{}\" appears again here (first at line {}); Kubernetes keeps only this last value",
                    dup.key, dup.first.line
                ),
            ));
        }
    }
}
