use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that unmask `/proc`.
    pub struct ProcMount;
    checks: Object,
    id: "POD013",
    slug: "unmasked-proc-mount",
    title: "Container unmasks /proc",
    severity: Severity::High,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container sets `securityContext.procMount` to something other than `Default` \
(`Unmasked`).",
    rationale: "The runtime masks and makes read-only the parts of `/proc` that expose or \
change the host kernel (`/proc/sys`, `/proc/sysrq-trigger`, `/proc/kcore`). Unmasked, a root \
process can read kernel memory or reconfigure the node.",
    remediation: "Remove `procMount` or set it to `Default`. `Unmasked` is only for nested \
container runtimes inside user namespaces.",
    references: &[
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/procMount"),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason: "`procMount: Unmasked` is set on purpose, for container runtimes nested in the pod; they \
stop working with the masked `/proc`.",
    }),
}

impl ObjectRule for ProcMount {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.pod.is_none() {
            return;
        }
        for container in &cx.containers {
            let Some(mount) = palisade_pss::controls::unmasked_proc_mount(container.container)
            else {
                continue;
            };
            let pointer = container.field("securityContext/procMount");
            let mount = match mount {
                Value::String(mount) => mount.clone(),
                other => other.to_string(),
            };
            let fix = cx.fix(|| {
                set_fix(
                    cx.object,
                    &pointer,
                    "Default".into(),
                    "set securityContext.procMount to Default".to_owned(),
                    Applicability::Unsafe,
                )
            });
            out.push(
                Emit::new(
                    pointer,
                    format!(
                        "{} sets procMount: {mount}; use Default",
                        describe(container)
                    ),
                )
                .with_fix(fix),
            );
        }
    }
}
