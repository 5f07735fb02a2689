use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::Value;

use crate::rules::util::set_fix;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Pods whose containers see each other's processes.
    pub struct ShareProcessNamespace;
    checks: Object,
    id: "POD019",
    slug: "share-process-namespace",
    title: "Pod shares one process namespace between containers",
    severity: Severity::Low,
    category: "workload",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A pod sets `shareProcessNamespace: true`.",
    rationale: "Every container of the pod then sees, signals and (with the same user) traces \
the others' processes, and reads their file systems and environment through \
`/proc/<pid>/root` and `/proc/<pid>/environ`: a compromised sidecar gets the main container's \
secrets.",
    remediation: "Remove `shareProcessNamespace` unless a debugging or signalling sidecar needs \
it; for debugging use `kubectl debug` with an ephemeral container instead.",
    references: &[
        Reference::new(
            Framework::NsaCisa,
            "Pod security: use host namespaces sparingly",
        ),
        Reference::url(
            Framework::Mitre,
            "T1055",
            "https://attack.mitre.org/techniques/T1055/",
        ),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason:
            "Containers share a process namespace so that one can see or signal the other's \
processes (a sidecar that reloads a server, a debugger); without it they cannot.",
    }),
}

impl ObjectRule for ShareProcessNamespace {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(spec) = cx.pod else { return };
        if spec.spec.get("shareProcessNamespace") != Some(&Value::Bool(true)) {
            return;
        }
        let pointer = spec.field("shareProcessNamespace");
        let fix = cx.fix(|| {
            set_fix(
                cx.object,
                &pointer,
                false.into(),
                "set shareProcessNamespace to false".to_owned(),
                Applicability::Unsafe,
            )
        });
        out.push(
            Emit::new(
                pointer,
                "pod shares one process namespace between its containers; remove shareProcessNamespace",
            )
            .with_fix(fix),
        );
    }
}
