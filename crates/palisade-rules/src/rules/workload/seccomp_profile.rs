use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::{json, Value};

use crate::rules::util::{describe, is_windows, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that run without a seccomp profile, or with `Unconfined`.
    pub struct SeccompProfile;
    checks: Object,
    id: "POD011",
    slug: "seccomp-profile",
    title: "Container runs without seccomp",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "Neither the container nor the pod sets `securityContext.seccompProfile` (or the \
legacy seccomp annotations), or the profile that applies is `Unconfined`. A missing profile is \
reported as Pod Security's restricted level does, not its baseline; of the profile types, only \
`Unconfined` is reported, other values being rejected by the API server.",
    rationale: "Without a profile the kubelet runs containers `Unconfined`: every system call \
is available, including the rarely needed ones (`keyctl`, `unshare`, `bpf`, `userfaultfd`) behind \
most kernel escapes. The runtime's default profile blocks them and breaks almost nothing.",
    remediation: "Set the runtime default profile on the pod:\n\n```yaml\nspec:\n  \
securityContext:\n    seccompProfile:\n      type: RuntimeDefault\n```",
    references: &[
        Reference::new(Framework::Cis, "5.6.2"),
        Reference::new(Framework::NsaCisa, "Pod security: seccomp and AppArmor"),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "restricted/seccompProfile"),
    ],
    fix: Some(FixSafety {
        applicability: None,
        reason: "Safe where no profile is set: `RuntimeDefault` only blocks system calls that services \
do not make (the runtimes have applied it to every container by default outside Kubernetes \
for years, and the kubelet does with `--seccomp-default`). Unsafe where a profile says \
`Unconfined`: that is an explicit choice, usually for a program the default profile stops.",
    }),
}

/// The profile type a legacy annotation value stands for.
fn annotation_type(value: &str) -> &'static str {
    match value {
        "unconfined" => "Unconfined",
        v if v.starts_with("localhost/") => "Localhost",
        _ => "RuntimeDefault",
    }
}

impl ObjectRule for SeccompProfile {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if is_windows(&spec) {
            return;
        }
        let pod_field = spec.field("securityContext/seccompProfile/type");
        let pod_type = match cx.object.value.at(&pod_field).and_then(Value::as_str) {
            Some(t) => Some((t, true)),
            None => spec
                .annotation("seccomp.security.alpha.kubernetes.io/pod")
                .map(|a| (annotation_type(a), false)),
        };
        let mut pod_needed = false;
        for container in &cx.containers {
            let field = container.field("securityContext/seccompProfile/type");
            let own = match cx.object.value.at(&field).and_then(Value::as_str) {
                Some(t) => Some((t, true)),
                None => spec
                    .annotation(&format!(
                        "container.seccomp.security.alpha.kubernetes.io/{}",
                        container.name()
                    ))
                    .map(|a| (annotation_type(a), false)),
            };
            match own {
                Some(("Unconfined", from_field)) => {
                    let fix = cx.fix(|| {
                        from_field
                            .then(|| {
                                set_fix(
                                    cx.object,
                                    &field,
                                    "RuntimeDefault".into(),
                                    "use the RuntimeDefault seccomp profile".to_owned(),
                                    Applicability::Unsafe,
                                )
                            })
                            .flatten()
                    });
                    out.push(
                        Emit::new(
                            field,
                            format!(
                                "{} runs with seccomp Unconfined; use the RuntimeDefault profile",
                                describe(container)
                            ),
                        )
                        .with_fix(fix),
                    );
                }
                Some(_) => {}
                None => pod_needed = true,
            }
        }
        if !pod_needed {
            return;
        }
        match pod_type {
            Some(("Unconfined", from_field)) => {
                let fix = cx.fix(|| {
                    from_field
                        .then(|| {
                            set_fix(
                                cx.object,
                                &pod_field,
                                "RuntimeDefault".into(),
                                "use the RuntimeDefault seccomp profile".to_owned(),
                                Applicability::Unsafe,
                            )
                        })
                        .flatten()
                });
                out.push(
                    Emit::new(
                        pod_field,
                        "pod runs with seccomp Unconfined; use the RuntimeDefault profile",
                    )
                    .with_fix(fix),
                );
            }
            Some(_) => {}
            None => {
                let pointer = spec.field("securityContext/seccompProfile");
                let fix = cx.fix(|| {
                    set_fix(
                        cx.object,
                        &pointer,
                        json!({"type": "RuntimeDefault"}),
                        "set the pod's seccomp profile to RuntimeDefault".to_owned(),
                        Applicability::Safe,
                    )
                });
                out.push(
                    Emit::new(
                        pointer,
                        "pod sets no seccomp profile, so its containers run Unconfined; set securityContext.seccompProfile.type: RuntimeDefault",
                    )
                    .with_fix(fix),
                );
            }
        }
    }
}
