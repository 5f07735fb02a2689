use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{append_fix, capability, describe, effective, is_windows};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that keep the runtime's default capabilities.
    pub struct CapabilitiesNotDropped;
    checks: Object,
    id: "POD007",
    slug: "capabilities-not-dropped",
    title: "Container does not drop all capabilities",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container's `securityContext.capabilities.drop` does not contain `ALL`. \
Capability names are read as container runtimes read them (`all` and `CAP_ALL` count), where \
Pod Security's restricted `capabilities_restricted` check only accepts `ALL`.",
    rationale: "Container runtimes grant a default set of Linux capabilities (`NET_RAW`, \
`CHOWN`, `DAC_OVERRIDE`, `SETUID`, `MKNOD`…) that few applications need. `NET_RAW` alone allows \
ARP and DNS spoofing of neighbouring pods; the others widen every kernel exploit.",
    remediation: "Drop every capability and add back only what the process needs:\n\n```yaml\n\
securityContext:\n  capabilities:\n    drop: [ALL]\n    add: [NET_BIND_SERVICE]\n```",
    references: &[
        Reference::new(Framework::Cis, "5.2.9"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "restricted/capabilities"),
    ],
    fix: Some(FixSafety {
        applicability: None,
        reason: "Safe where the container already runs as a non-zero `runAsUser` with \
`allowPrivilegeEscalation: false`: its processes then hold no capability, and no setuid binary \
can give them one, so dropping the default set removes nothing they use. Unsafe elsewhere: a \
process that runs as root uses the default capabilities (`CHOWN`, `SETUID`, \
`NET_BIND_SERVICE`…) to change owners, switch users or bind a low port.",
    }),
}

impl ObjectRule for CapabilitiesNotDropped {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if is_windows(&spec) {
            return;
        }
        for container in &cx.containers {
            let pointer = container.field("securityContext/capabilities/drop");
            let drops_all = match cx.object.value.at(&pointer) {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|c| capability(c) == "ALL"),
                _ => false,
            };
            if drops_all {
                continue;
            }
            // A process that runs as a non-zero user and cannot gain privileges holds no
            // capability: dropping them removes nothing it uses.
            let non_root = effective(&spec, container, "runAsUser")
                .and_then(|(user, _)| user.as_u64())
                .is_some_and(|user| user != 0);
            let context = container.container.get("securityContext");
            let flag = |field: &str| {
                context
                    .and_then(|sc| sc.get(field))
                    .and_then(Value::as_bool)
            };
            let applicability = if non_root
                && flag("allowPrivilegeEscalation") == Some(false)
                && flag("privileged") != Some(true)
            {
                Applicability::Safe
            } else {
                Applicability::Unsafe
            };
            let fix = cx.fix(|| {
                append_fix(
                    cx.object,
                    &pointer,
                    "ALL".into(),
                    "add ALL to securityContext.capabilities.drop".to_owned(),
                    applicability,
                )
            });
            out.push(
                Emit::new(
                    pointer,
                    format!(
                        "{} keeps the default capabilities; add ALL to securityContext.capabilities.drop",
                        describe(container)
                    ),
                )
                .with_fix(fix),
            );
        }
    }
}
