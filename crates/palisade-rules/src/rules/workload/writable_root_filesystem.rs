use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::{describe, is_windows, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Containers whose root file system is writable.
    pub struct ReadOnlyRootFilesystem;
    checks: Object,
    id: "POD006",
    slug: "writable-root-filesystem",
    title: "Container root file system is writable",
    severity: Severity::Low,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container does not set `securityContext.readOnlyRootFilesystem: true`.",
    rationale: "An attacker with code execution in a writable container can drop tools, replace \
binaries and libraries, and persist across process restarts. A read-only root file system keeps \
the container identical to its scanned image.",
    remediation: "Set `readOnlyRootFilesystem: true` and mount an `emptyDir` (with a \
`sizeLimit`) where the application writes, such as `/tmp`:\n\n```yaml\nsecurityContext:\n  \
readOnlyRootFilesystem: true\nvolumeMounts:\n- {name: tmp, mountPath: /tmp}\n```",
    references: &[
        Reference::new(Framework::Cis, "5.6.3"),
        Reference::new(
            Framework::NsaCisa,
            "Pod security: immutable container file systems",
        ),
        Reference::url(
            Framework::Mitre,
            "T1525",
            "https://attack.mitre.org/techniques/T1525/",
        ),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason: "Programs write to their root file system (caches, PID files, temporary files under \
`/tmp`, nginx's `/var/cache/nginx`); made read-only, they fail until each such path gets an \
`emptyDir` volume.",
    }),
}

impl ObjectRule for ReadOnlyRootFilesystem {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if is_windows(&spec) {
            return;
        }
        for container in &cx.containers {
            let pointer = container.field("securityContext/readOnlyRootFilesystem");
            if cx.object.value.at(&pointer) == Some(&Value::Bool(true)) {
                continue;
            }
            let fix = cx.fix(|| {
                set_fix(
                    cx.object,
                    &pointer,
                    true.into(),
                    "set securityContext.readOnlyRootFilesystem to true".to_owned(),
                    Applicability::Unsafe,
                )
            });
            out.push(
                Emit::new(
                    pointer,
                    format!(
                        "{} has a writable root file system; set securityContext.readOnlyRootFilesystem: true",
                        describe(container)
                    ),
                )
                .with_fix(fix),
            );
        }
    }
}
