use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// impersonate.
    pub struct Impersonate;
    checks: Inventory,
    id: "RBAC005",
    slug: "rbac-impersonate",
    title: "Role can impersonate users, groups or service accounts",
    severity: Severity::Critical,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows the `impersonate` verb on users, groups or service accounts.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "Impersonation makes the API server act as another identity. Unrestricted \
impersonation of users or groups includes `system:masters`, which is cluster-admin; \
impersonating service accounts grants their permissions.",
    remediation: "Remove `impersonate`, or restrict it with `resourceNames` to the \
identities a proxy really needs.",
    references: &[
        Reference::new(Framework::Cis, "5.1.8"),
        mitre("T1078", "https://attack.mitre.org/techniques/T1078/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for Impersonate {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::Impersonate, out);
    }
}

impl Judge for Impersonate {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "act as other identities", fact)
    }
}
