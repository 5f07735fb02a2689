use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `seccompProfile_baseline` (baseline), judged by the namespace's labels.
    pub struct SeccompProfileBaseline;
    checks: Inventory,
    id: "PSS010",
    slug: "pss-seccomp-profile-baseline",
    title: "Pod Security baseline: seccomp switched off",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `seccompProfile_baseline`. The pod or a container sets its seccomp profile to `Unconfined` (or, for policy versions before v1.19, the legacy seccomp annotations name something other than the runtime default or a localhost profile). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Seccomp filters the system calls a container may make; `Unconfined` removes the filter and exposes the whole kernel attack surface, including calls used in container escapes.",
    remediation: "Use the runtime's default profile:\n\n```yaml\nsecurityContext:\n  seccompProfile:\n    type: RuntimeDefault\n```",
    references: &[Reference::new(Framework::Cis, "5.6.2"), Reference::url(Framework::Pss, "baseline/seccompProfile_baseline", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for SeccompProfileBaseline {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::SeccompProfileBaseline, inventory, out);
    }
}
