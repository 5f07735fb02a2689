use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, is_windows, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Pods and containers that turn AppArmor off.
    pub struct AppArmorUnconfined;
    checks: Object,
    id: "POD012",
    slug: "apparmor-unconfined",
    title: "Container runs AppArmor unconfined",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A pod or container sets `appArmorProfile.type: Unconfined`, or the annotation \
`container.apparmor.security.beta.kubernetes.io/<container>: unconfined`. Pod Security's \
baseline `appArmorProfile` check also denies values the API server rejects; this rule leaves \
those to it.",
    rationale: "On nodes with AppArmor the runtime confines containers with a default profile \
that denies writes to `/proc` and `/sys` and mounting. Unconfined removes that layer, which \
several container escapes rely on.",
    remediation: "Remove the setting (the runtime default applies) or set it explicitly:\n\n\
```yaml\nsecurityContext:\n  appArmorProfile:\n    type: RuntimeDefault\n```",
    references: &[
        Reference::new(Framework::NsaCisa, "Pod security: seccomp and AppArmor"),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "baseline/appArmorProfile"),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason: "`Unconfined` is an explicit choice, usually for a program that the default profile \
stops (one that mounts file systems or writes to `/proc`).",
    }),
}

impl ObjectRule for AppArmorUnconfined {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if is_windows(&spec) {
            return;
        }
        let fix = |pointer: &str| {
            set_fix(
                cx.object,
                pointer,
                "RuntimeDefault".into(),
                "use the RuntimeDefault AppArmor profile".to_owned(),
                Applicability::Unsafe,
            )
        };
        // The API server requires a container's AppArmor annotation to match the field that
        // applies to it: where the annotation says unconfined, the field cannot be fixed alone.
        let annotated = |name: &str| {
            spec.annotation(&format!(
                "container.apparmor.security.beta.kubernetes.io/{name}"
            )) == Some("unconfined")
        };
        let pod_field = spec.field("securityContext/appArmorProfile/type");
        if cx.object.value.at(&pod_field).and_then(Value::as_str) == Some("Unconfined") {
            let pod_fixable = !cx.containers.iter().any(|c| {
                annotated(c.name())
                    && c.container
                        .at("/securityContext/appArmorProfile/type")
                        .is_none()
            });
            out.push(
                Emit::new(
                    pod_field.clone(),
                    "pod runs AppArmor Unconfined; remove it or use RuntimeDefault",
                )
                .with_fix(cx.fix(|| fix(&pod_field).filter(|_| pod_fixable))),
            );
        }
        for container in &cx.containers {
            let field = container.field("securityContext/appArmorProfile/type");
            if cx.object.value.at(&field).and_then(Value::as_str) == Some("Unconfined") {
                out.push(
                    Emit::new(
                        field.clone(),
                        format!(
                            "{} runs AppArmor Unconfined; remove it or use RuntimeDefault",
                            describe(container)
                        ),
                    )
                    .with_fix(cx.fix(|| fix(&field).filter(|_| !annotated(container.name())))),
                );
            }
            let key = format!(
                "container.apparmor.security.beta.kubernetes.io/{}",
                container.name()
            );
            if spec.annotation(&key) == Some("unconfined") {
                let pointer = format!(
                    "{}/annotations/{}",
                    spec.metadata_pointer,
                    palisade_core::pointer::escape(&key)
                );
                out.push(Emit::new(
                    pointer,
                    format!(
                        "{} runs AppArmor unconfined (annotation); remove the annotation",
                        describe(container)
                    ),
                ));
            }
        }
    }
}
