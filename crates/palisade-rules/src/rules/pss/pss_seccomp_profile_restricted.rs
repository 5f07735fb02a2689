use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `seccompProfile_restricted` (restricted), judged by the namespace's labels.
    pub struct SeccompProfileRestricted;
    checks: Inventory,
    id: "PSS019",
    slug: "pss-seccomp-profile-restricted",
    title: "Pod Security restricted: seccomp profile not set",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `seccompProfile_restricted`. Neither the pod nor every container sets `securityContext.seccompProfile.type` to `RuntimeDefault` or `Localhost` (policy v1.19 and later; Windows pods are exempt from v1.25). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Without a profile, most runtimes run containers unconfined: every system call of the kernel is reachable, including those used in container escapes.",
    remediation: "Set the runtime's default profile for the whole pod:\n\n```yaml\nsecurityContext:\n  seccompProfile:\n    type: RuntimeDefault\n```",
    references: &[Reference::new(Framework::Cis, "5.6.2"), Reference::url(Framework::Pss, "restricted/seccompProfile_restricted", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for SeccompProfileRestricted {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::SeccompProfileRestricted, inventory, out);
    }
}
