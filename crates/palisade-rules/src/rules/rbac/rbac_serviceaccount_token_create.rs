use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Service-account tokens mintable.
    pub struct TokenCreate;
    checks: Inventory,
    id: "RBAC006",
    slug: "rbac-serviceaccount-token-create",
    title: "Role can create service-account tokens",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows `create` on `serviceaccounts/token`.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "The TokenRequest API mints a token for any service account in scope: the \
holder acts with every permission of those service accounts, for as long as the token lives.",
    remediation: "Restrict `serviceaccounts/token` with `resourceNames` to the service \
accounts concerned, or remove it.",
    references: &[
        crate::Reference::new(crate::Framework::Cis, "5.1.13"),
        mitre("T1528", "https://attack.mitre.org/techniques/T1528/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for TokenCreate {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::TokenCreate, out);
    }
}

impl Judge for TokenCreate {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "mint service-account tokens", fact)
    }
}
