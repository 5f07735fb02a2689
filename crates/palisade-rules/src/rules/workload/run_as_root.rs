use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, effective, is_windows, set_fields_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers that may run as root.
    pub struct RunAsRoot;
    checks: Object,
    id: "POD005",
    slug: "run-as-root",
    title: "Container may run as root",
    severity: Severity::Medium,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary:
        "A container neither sets `runAsNonRoot: true` nor a non-zero `runAsUser` (in its own \
or the pod's `securityContext`; the container's value wins), or sets `runAsUser: 0`. A non-zero \
`runAsUser` is enough here, where Pod Security's restricted `runAsNonRoot` check also requires \
`runAsNonRoot: true`.",
    rationale: "Most images default to user 0. Root in a container is root on the node's kernel: \
with one kernel bug, a writable host mount or a leaked capability it becomes root on the node, \
and it can write over the image's binaries to persist.",
    remediation: "Run as an unprivileged user and let the kubelet refuse root images:\n\n\
```yaml\nsecurityContext:\n  runAsNonRoot: true\n  runAsUser: 10001\n```\n\n\
`palisade fix` sets `runAsNonRoot: true` on the container; an image that needs root then fails \
to start instead of running as root, and needs a `USER` in its Dockerfile or a `runAsUser`.",
    references: &[
        Reference::new(Framework::Cis, "5.2.7"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: non-root containers and privileges",
        ),
        Reference::url(
            Framework::Mitre,
            "T1611",
            "https://attack.mitre.org/techniques/T1611/",
        ),
        Reference::new(Framework::Pss, "restricted/runAsNonRoot"),
        Reference::new(Framework::Pss, "restricted/runAsUser"),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason:
            "The user an image runs as is not in the manifest: an image that runs as root (the \
official nginx image, for one) fails to start with `runAsNonRoot: true`, or with a non-root \
user cannot bind its port or write its files. The fix sets `runAsNonRoot: true` and, where no \
`runAsUser` applies, a non-zero `runAsUser`, so that the kubelet can start the container; \
whether the program works as that user (65532, `nonroot` of the distroless images) only a \
test run tells.",
    }),
}

/// The user the fix runs containers as when none is set: `nonroot` of the distroless images.
const NON_ROOT_USER: u64 = 65532;

impl ObjectRule for RunAsRoot {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if is_windows(&spec) {
            return;
        }
        for container in &cx.containers {
            let user = effective(&spec, container, "runAsUser");
            if let Some((Value::Number(n), at)) = &user {
                if n.as_u64() == Some(0) {
                    out.push(Emit::new(
                        at.clone(),
                        format!(
                            "{} runs as user 0 (root); run it as a non-zero user",
                            describe(container)
                        ),
                    ));
                    continue;
                }
                if n.as_u64().is_some() {
                    continue;
                }
            }
            let non_root = effective(&spec, container, "runAsNonRoot");
            if let Some((Value::Bool(true), _)) = non_root {
                continue;
            }
            let own = container.field("securityContext/runAsNonRoot");
            let at = match &non_root {
                Some((Value::Bool(false), at)) => at.clone(),
                _ => own.clone(),
            };
            // The image's user is unknown: without a user to run as, the kubelet would refuse
            // to start an image that runs as root.
            let mut fields = vec![(own.clone(), Value::Bool(true))];
            let description = if user.is_none() {
                fields.push((
                    container.field("securityContext/runAsUser"),
                    NON_ROOT_USER.into(),
                ));
                format!("set securityContext.runAsNonRoot to true and runAsUser to {NON_ROOT_USER}")
            } else {
                "set securityContext.runAsNonRoot to true".to_owned()
            };
            let fix = cx.fix(|| {
                set_fields_fix(
                    cx.object,
                    fields,
                    Vec::new(),
                    description,
                    Applicability::Unsafe,
                )
            });
            out.push(
                Emit::new(
                    at,
                    format!(
                        "{} may run as root; set securityContext.runAsNonRoot: true and a non-zero runAsUser",
                        describe(container)
                    ),
                )
                .with_fix(fix),
            );
        }
    }
}
