use palisade_core::rule::{Framework, Reference, Severity};
use palisade_pss::CheckId;

use super::{judge_check, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Pod Security check `privileged` (baseline), judged by the namespace's labels.
    pub struct Privileged;
    checks: Inventory,
    id: "PSS007",
    slug: "pss-privileged",
    title: "Pod Security baseline: privileged container",
    severity: Severity::High,
    category: "pss",
    kinds: KINDS,
    summary: "Baseline level, check `privileged`. A container sets `securityContext.privileged: true`. Reported only for pods and workloads in a namespace the input holds with Pod Security Admission labels that run this check (`enforce`, `warn` or `audit` at baseline or stricter, at a policy version where the check applies), at the offending field; high severity when the namespace's `enforce` level rejects the pod at admission, low when only `warn` or `audit` would report it. A namespace the input labels more than once (overlays) is judged by the definition that enforces the least strict level. Namespaces without labels are left to the hardening rules.",
    rationale: "A privileged container has every capability and every host device, and is not confined by seccomp or AppArmor: root in it is root on the node.",
    remediation: "Remove `privileged: true`, and grant only the capabilities the process needs:\n\n```yaml\nsecurityContext:\n  privileged: false\n  capabilities:\n    drop: [ALL]\n```",
    references: &[Reference::new(Framework::Cis, "5.2.2"), Reference::url(Framework::Mitre, "T1611", "https://attack.mitre.org/techniques/T1611/"), Reference::url(Framework::Pss, "baseline/privileged", "https://kubernetes.io/docs/concepts/security/pod-security-standards/")],
    fix: None,
}

impl InventoryRule for Privileged {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        judge_check(CheckId::Privileged, inventory, out);
    }
}
