use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::{Level, Mode};

use super::{label, label_pointer, policy, KINDS};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Namespaces whose warn or audit level is set weaker than their enforce level.
    pub struct WeakerWarnAudit;
    checks: Object,
    id: "NS004",
    slug: "namespace-pss-warn-audit-weaker",
    title: "Pod Security warn or audit level weaker than enforce",
    severity: Severity::Low,
    category: "namespace",
    kinds: KINDS,
    summary: "A Namespace sets `pod-security.kubernetes.io/warn` or `audit` to a level less strict \
than its valid `enforce` level.",
    rationale: "Warn and audit exist to show what a stricter level would reject before it is \
enforced. Set weaker than enforce, they never report anything (enforce rejects those pods \
first), so the namespace gets no warning or audit trail ahead of the next tightening, and the \
labels suggest a review that is not happening.",
    remediation: "Set warn and audit to the enforce level or the next stricter one:\n\n```yaml\n\
metadata:\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n    \
pod-security.kubernetes.io/warn: restricted\n    pod-security.kubernetes.io/audit: restricted\n```",
    references: &[Reference::url(
        Framework::Docs,
        "Pod Security Admission modes",
        "https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces",
    )],
    fix: None,
}

impl ObjectRule for WeakerWarnAudit {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let object = cx.object;
        let valid_enforce =
            label(object, &Mode::Enforce.level_label()).and_then(|l| l.parse::<Level>().ok());
        let Some(enforce) = valid_enforce else { return };
        let policy = policy(object);
        for mode in [Mode::Warn, Mode::Audit] {
            let key = mode.level_label();
            if label(object, &key).is_none() {
                continue;
            }
            let level = policy.get(mode).level;
            if level < enforce {
                out.push(Emit::new(
                    label_pointer(&key),
                    format!(
                        "namespace {} sets {mode} to {level}, weaker than enforce ({enforce}): \
                         it can never report anything; set it to {} or stricter",
                        object.name(),
                        enforce
                    ),
                ));
            }
        }
    }
}
