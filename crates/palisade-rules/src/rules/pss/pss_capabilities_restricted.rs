use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `capabilities_restricted` (restricted), judged by the namespace's labels.
    pub struct CapabilitiesRestricted;
    checks: Inventory,
    id: "PSS014",
    slug: "pss-capabilities-restricted",
    title: "Pod Security restricted: capabilities not dropped",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `capabilities_restricted`. A container does not drop `ALL` capabilities, or adds one other than `NET_BIND_SERVICE` (policy v1.22 and later; Windows pods are exempt from v1.25). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "Every capability a process keeps is kernel power an attacker inherits on compromise. The restricted level keeps none but the right to bind low ports.",
    remediation: "Drop all capabilities and add back only NET_BIND_SERVICE if needed:\n\n```yaml\nsecurityContext:\n  capabilities:\n    drop: [ALL]\n```",
    references: &[Reference::new(Framework::Cis, "5.2.9"), Reference::url(Framework::Pss, "restricted/capabilities_restricted", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for CapabilitiesRestricted {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::CapabilitiesRestricted, inventory, out);
    }
}
