use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `sysctls` (baseline), judged by the namespace's labels.
    pub struct Sysctls;
    checks: Inventory,
    id: "PSS011",
    slug: "pss-sysctls",
    title: "Pod Security baseline: unsafe sysctl",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `sysctls`. The pod sets a sysctl outside the safe, namespaced set of its policy version in `securityContext.sysctls`. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Sysctls outside the safe set are not isolated per pod or can exhaust the node's resources; setting them affects every pod on the node.",
    remediation: "Remove the sysctl, or set it on the nodes through their configuration if it is really needed.",
    references: &[Reference::url(Framework::Pss, "baseline/sysctls", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for Sysctls {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::Sysctls, inventory, out);
    }
}
