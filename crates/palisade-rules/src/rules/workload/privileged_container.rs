use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};

use crate::rules::util::{describe, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that run privileged.
    pub struct PrivilegedContainer;
    checks: Object,
    id: "POD001",
    slug: "privileged-container",
    title: "Container runs privileged",
    severity: Severity::Critical,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container sets `securityContext.privileged: true`.",
    rationale: "A privileged container has every capability, sees every host device and is not \
confined by seccomp or AppArmor: root in it is root on the node. An attacker who gets code \
execution in it can mount the host disk, load kernel modules and escape to the node, and from \
there to every pod and secret on it.",
    remediation: "Remove `privileged: true` (or set it to `false`). Grant only the capabilities \
the process needs with `capabilities.add`, after `drop: [ALL]`:\n\n```yaml\nsecurityContext:\n  \
privileged: false\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n```",
    references: &[
        Reference::new(Framework::Cis, "5.2.2"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/privileged"),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason:
            "A privileged container holds every capability and sees every device of the node. \
Whatever it uses them for (a CNI plugin, a storage driver, a node agent such as Falco) stops \
working without them, so only `--unsafe-fixes` turns it off.",
    }),
}

impl ObjectRule for PrivilegedContainer {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            if palisade_pss::controls::privileged(container.container) {
                let pointer = container.field("securityContext/privileged");
                let fix = cx.fix(|| {
                    set_fix(
                        cx.object,
                        &pointer,
                        false.into(),
                        "set securityContext.privileged to false".to_owned(),
                        Applicability::Unsafe,
                    )
                });
                out.push(
                    Emit::new(
                        pointer,
                        format!(
                            "{} runs privileged; remove `privileged: true` and add only the capabilities it needs",
                            describe(container)
                        ),
                    )
                    .with_fix(fix),
                );
            }
        }
    }
}
