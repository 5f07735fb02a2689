use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `procMount` (baseline), judged by the namespace's labels.
    pub struct ProcMount;
    checks: Inventory,
    id: "PSS008",
    slug: "pss-proc-mount",
    title: "Pod Security baseline: unmasked /proc",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `procMount`. A container sets `securityContext.procMount` to something other than `Default` (such as `Unmasked`) in a pod that shares the host's user namespace. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "The default /proc mount masks and makes read-only the kernel paths that leak host information or allow changing host settings. Unmasked, they are open to the container.",
    remediation: "Remove `procMount` or set it to `Default`.",
    references: &[Reference::url(Framework::Pss, "baseline/procMount", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for ProcMount {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::ProcMount, inventory, out);
    }
}
