use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `seLinuxOptions` (baseline), judged by the namespace's labels.
    pub struct SeLinuxOptions;
    checks: Inventory,
    id: "PSS009",
    slug: "pss-se-linux-options",
    title: "Pod Security baseline: custom SELinux options",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `seLinuxOptions`. The pod or a container sets SELinux options other than the container types (`container_t`, `container_init_t`, `container_kvm_t`, and from v1.31 `container_engine_t`), or sets the SELinux `user` or `role`. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "SELinux labels confine containers on SELinux nodes. A custom type, user or role can give the container a domain with access to the host's files and processes.",
    remediation: "Remove `seLinuxOptions.type`, `user` and `role`, or use one of the allowed container types; `level` may be set.",
    references: &[Reference::url(Framework::Pss, "baseline/seLinuxOptions", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for SeLinuxOptions {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::SeLinuxOptions, inventory, out);
    }
}
