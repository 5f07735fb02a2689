use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `procMount_restricted` (restricted), judged by the namespace's labels.
    pub struct ProcMountRestricted;
    checks: Inventory,
    id: "PSS015",
    slug: "pss-proc-mount-restricted",
    title: "Pod Security restricted: unmasked /proc at the restricted level",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Restricted level, check `procMount_restricted`. A container sets `securityContext.procMount` to something other than `Default`, even in a pod with its own user namespace (policy v1.35 and later). Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at restricted or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "The default /proc mount masks the kernel paths that leak host information; the restricted level keeps them masked whatever the user namespace.",
    remediation: "Remove `procMount` or set it to `Default`.",
    references: &[Reference::url(Framework::Pss, "restricted/procMount_restricted", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for ProcMountRestricted {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::ProcMountRestricted, inventory, out);
    }
}
