use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// exec, attach or port-forward into pods.
    pub struct PodExec;
    checks: Inventory,
    id: "RBAC003",
    slug: "rbac-pod-exec",
    title: "Role can exec, attach or port-forward into pods",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows `create` or `get` on `pods/exec`, `pods/attach` or \
`pods/portforward`.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "exec and attach run commands inside running containers, with their \
service-account token, mounted secrets and network position; port-forward reaches ports \
that NetworkPolicies and Services keep private. `get` is enough over WebSockets on API \
servers that do not require `create`.",
    remediation: "Grant exec and port-forward only for break-glass access, namespaced, to \
named people; use logs and ephemeral debug containers under audit otherwise.",
    references: &[
        mitre("T1609", "https://attack.mitre.org/techniques/T1609/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for PodExec {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::PodExec, out);
    }
}

impl Judge for PodExec {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "run commands in or connect to pods", fact)
    }
}
