use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `allowPrivilegeEscalation` (restricted), judged by the namespace's labels.
    pub struct AllowPrivilegeEscalation;
    checks: Inventory,
    id: "PSS013",
    slug: "pss-allow-privilege-escalation",
    title: "Pod Security restricted: privilege escalation allowed",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `allowPrivilegeEscalation`. A container does not set `securityContext.allowPrivilegeEscalation: false` (policy v1.8 and later; Windows pods are exempt from v1.25). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Without it, a process can gain more privileges than its parent, through setuid binaries or file capabilities, a common step from code execution to root in the container.",
    remediation: "Set it on every container:\n\n```yaml\nsecurityContext:\n  allowPrivilegeEscalation: false\n```",
    references: &[Reference::new(Framework::Cis, "5.2.6"), Reference::url(Framework::Pss, "restricted/allowPrivilegeEscalation", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for AllowPrivilegeEscalation {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::AllowPrivilegeEscalation, inventory, out);
    }
}
