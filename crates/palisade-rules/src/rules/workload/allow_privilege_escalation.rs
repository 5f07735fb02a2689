use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that do not set `allowPrivilegeEscalation: false`.
    pub struct AllowPrivilegeEscalation;
    checks: Object,
    id: "POD002",
    slug: "allow-privilege-escalation",
    title: "Container allows privilege escalation",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container does not set `securityContext.allowPrivilegeEscalation: false`.",
    rationale: "Unless it is set to false, the kernel's `no_new_privs` flag is off and a process \
can gain more privileges than its parent, through setuid binaries such as `sudo` or file \
capabilities. It is the first step of many container escapes. The field defaults to true.",
    remediation:
        "Set `allowPrivilegeEscalation: false` in every container's `securityContext`:\n\n\
```yaml\nsecurityContext:\n  allowPrivilegeEscalation: false\n```",
    references: &[
        Reference::new(Framework::Cis, "5.2.6"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1548",
            "https://attack.mitre.org/techniques/T1548/",
        ),
        Reference::new(Framework::Pss, "restricted/allowPrivilegeEscalation"),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Safe),
        reason: "`allowPrivilegeEscalation: false` only stops a process from gaining privileges its \
parent did not have, through setuid binaries or file capabilities, which services do not do \
at run time. The API server refuses it next to `privileged: true` or an added \
`CAP_SYS_ADMIN`: there the fix is not applied (with `--unsafe-fixes`, once the privileged fix \
has applied, it is).",
    }),
}

impl ObjectRule for AllowPrivilegeEscalation {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        // Windows pods cannot set the field (the API server rejects it).
        if palisade_pss::controls::windows(spec.spec) {
            return;
        }
        for container in &cx.containers {
            let pointer = container.field("securityContext/allowPrivilegeEscalation");
            if !palisade_pss::controls::allows_privilege_escalation(container.container) {
                continue;
            }
            let (at, message) = match cx.object.value.at(&pointer) {
                Some(Value::Bool(true)) => (
                    pointer.clone(),
                    format!(
                        "{} sets allowPrivilegeEscalation: true; set it to false",
                        describe(container)
                    ),
                ),
                _ => (
                    pointer.clone(),
                    format!(
                        "{} does not set securityContext.allowPrivilegeEscalation: false",
                        describe(container)
                    ),
                ),
            };
            let fix = cx.fix(|| {
                set_fix(
                    cx.object,
                    &pointer,
                    false.into(),
                    "set securityContext.allowPrivilegeEscalation to false".to_owned(),
                    Applicability::Safe,
                )
            });
            out.push(Emit::new(at, message).with_fix(fix));
        }
    }
}
