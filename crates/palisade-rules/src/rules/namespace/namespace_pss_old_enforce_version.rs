use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::{Mode, Version, NEWEST_POLICY_MINOR};

use super::{label, label_pointer, KINDS};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Namespaces whose enforced policy is pinned to an old version.
    pub struct OldEnforceVersion;
    checks: Object,
    id: "NS003",
    slug: "namespace-pss-old-enforce-version",
    title: "Namespace pins an old Pod Security policy version",
    severity: Severity::Low,
    category: "namespace",
    kinds: KINDS,
    summary: "A Namespace sets `pod-security.kubernetes.io/enforce-version` to a `v1.N` more than \
four minor versions older than the newest policy version palisade knows.",
    rationale: "Pinning the version keeps upgrades from breaking workloads, but the checks are \
frozen at that version: later policy versions closed gaps (seccomp and capability \
requirements, probe hosts, /proc mounts in user namespaces, AppArmor fields) that an old pin \
does not enforce. A pin that is never moved forward slowly turns into a weaker policy.",
    remediation: "Check the workloads against the current version (`palisade pss --level \
restricted --version latest`), fix what fails, then move the pin forward or use `latest`:\n\n\
```yaml\nmetadata:\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n    \
pod-security.kubernetes.io/enforce-version: latest\n```",
    references: &[Reference::url(
        Framework::Docs,
        "Pod Security Admission: versions",
        "https://kubernetes.io/docs/concepts/security/pod-security-admission/#pod-security-admission-labels-for-namespaces",
    )],
    fix: None,
}

/// How many minor versions a pinned policy may lag behind the newest one.
const MAX_LAG: u32 = 4;

impl ObjectRule for OldEnforceVersion {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let key = Mode::Enforce.version_label();
        let Some(Ok(Version::Minor(minor))) = label(cx.object, &key).map(str::parse::<Version>)
        else {
            return;
        };
        if minor.saturating_add(MAX_LAG) >= NEWEST_POLICY_MINOR {
            return;
        }
        out.push(Emit::new(
            label_pointer(&key),
            format!(
                "namespace {} enforces the v1.{minor} policy, {} minor versions behind v1.{}; \
                 checks added since are not enforced",
                cx.object.name(),
                NEWEST_POLICY_MINOR - minor,
                NEWEST_POLICY_MINOR
            ),
        ));
    }
}
