use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// escalate or bind on roles.
    pub struct EscalateBind;
    checks: Inventory,
    id: "RBAC004",
    slug: "rbac-escalate-bind",
    title: "Role can escalate or bind roles",
    severity: Severity::Critical,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows the `escalate` or `bind` verb on roles or clusterroles.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "RBAC normally refuses to let a user grant permissions they do not hold. \
`escalate` lifts that check when editing roles, `bind` when creating bindings: with either \
(and write access to roles or bindings) a subject can give itself any role up to \
cluster-admin.",
    remediation: "Remove `escalate` and `bind`; where a controller must manage bindings, \
restrict `bind` with `resourceNames` to the roles it hands out.",
    references: &[
        Reference::new(Framework::Cis, "5.1.8"),
        mitre("T1078", "https://attack.mitre.org/techniques/T1078/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for EscalateBind {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::EscalateBind, out);
    }
}

impl Judge for EscalateBind {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "grant roles beyond its own permissions", fact)
    }
}
