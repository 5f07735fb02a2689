use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::{Mode, LABEL_PREFIX};

use super::{label_pointer, KINDS};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Pod Security labels admission cannot use.
    pub struct InvalidPssLabel;
    checks: Object,
    id: "NS005",
    slug: "namespace-pss-invalid-label",
    title: "Invalid Pod Security label",
    severity: Severity::Medium,
    category: "namespace",
    kinds: KINDS,
    summary: "A `pod-security.kubernetes.io/` label of a Namespace has a value admission rejects \
(a level other than privileged, baseline or restricted; a version other than `latest` or \
`v1.N`), or a key admission does not read (a misspelt mode such as `enforce_version`).",
    rationale: "The API server refuses to create or update a Namespace with an invalid level or \
version, so the manifest fails to apply; where such a label already exists, admission falls \
back to `restricted` for an invalid enforce level, `privileged` for warn or audit, and \
`latest` for a version, none of which is what was meant. A misspelt key is ignored silently and \
the namespace keeps the default policy.",
    remediation: "Use one of the six keys (`enforce`, `enforce-version`, `warn`, `warn-version`, \
`audit`, `audit-version`) with a level (`privileged`, `baseline`, `restricted`) or a version \
(`latest`, `v1.30`):\n\n```yaml\nmetadata:\n  labels:\n    \
pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/enforce-version: latest\n```",
    references: &[Reference::url(
        Framework::Docs,
        "Pod Security Admission labels",
        "https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces",
    )],
    fix: None,
}

impl ObjectRule for InvalidPssLabel {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(labels) = cx.object.labels() else {
            return;
        };
        let known: Vec<String> = Mode::ALL
            .iter()
            .flat_map(|m| [m.level_label(), m.version_label()])
            .collect();
        for key in labels.keys() {
            if key.starts_with(LABEL_PREFIX) && !known.contains(key) {
                out.push(Emit::new(
                    label_pointer(key),
                    format!(
                        "`{key}` is not a Pod Security label and is ignored; the keys are \
                         enforce, warn and audit, each with a -version"
                    ),
                ));
            }
        }
        let (_, errors) = palisade_pss::policy_from_labels(Some(labels), &Default::default());
        for error in errors {
            let key = error
                .field
                .strip_prefix("metadata.labels[")
                .and_then(|rest| rest.strip_suffix(']'))
                .unwrap_or(LABEL_PREFIX);
            out.push(Emit::new(
                label_pointer(key),
                format!("{error}; the API server refuses to create or update the Namespace"),
            ));
        }
    }
}
