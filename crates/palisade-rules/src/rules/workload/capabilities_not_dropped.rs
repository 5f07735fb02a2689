use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, RuleMeta, Severity};
use serde_json::Value;

use crate::rules::util::{append_fix, capability, describe, is_windows, pod};
use crate::{Emit, ObjectCx, Rule};

/// Containers that keep the runtime's default capabilities.
pub struct CapabilitiesNotDropped;

static META: RuleMeta = RuleMeta {
    id: "POD007",
    slug: "capabilities-not-dropped",
    title: "Container does not drop all capabilities",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container's `securityContext.capabilities.drop` does not contain `ALL`.",
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
    fixable: true,
};

impl Rule for CapabilitiesNotDropped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = pod(cx.object) else { return };
        if is_windows(&spec) {
            return;
        }
        for container in spec.containers() {
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
            let fix = append_fix(
                cx.object,
                &pointer,
                "ALL".into(),
                "add ALL to securityContext.capabilities.drop".to_owned(),
            );
            out.push(
                Emit::new(
                    pointer,
                    format!(
                        "{} keeps the default capabilities; add ALL to securityContext.capabilities.drop",
                        describe(&container)
                    ),
                )
                .with_fix(fix),
            );
        }
    }
}
