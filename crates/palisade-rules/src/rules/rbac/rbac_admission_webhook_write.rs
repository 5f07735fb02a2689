use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Admission webhook configurations writable.
    pub struct WebhookWrite;
    checks: Inventory,
    id: "RBAC009",
    slug: "rbac-admission-webhook-write",
    title: "Role can change admission webhook configurations",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows `create`, `update`, `patch` or `delete` on \
`mutatingwebhookconfigurations` or `validatingwebhookconfigurations`.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "A mutating webhook sees and may rewrite every object it selects (secrets \
included) before it is stored; deleting or loosening a validating webhook switches off the \
policy it enforces.",
    remediation: "Let only the webhook's own controller update its configuration, \
restricted with `resourceNames`.",
    references: &[
        crate::Reference::new(crate::Framework::Cis, "5.1.12"),
        mitre("T1562", "https://attack.mitre.org/techniques/T1562/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for WebhookWrite {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::WebhookWrite, out);
    }
}

impl Judge for WebhookWrite {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "change admission webhooks", fact)
    }
}
