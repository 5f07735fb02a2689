use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Permissions granted to a `default` service account.
    pub struct DefaultServiceAccountBinding;
    checks: Inventory,
    id: "RBAC013",
    slug: "rbac-default-serviceaccount-binding",
    title: "Binding grants permissions to a default service account",
    severity: Severity::Medium,
    category: "rbac",
    kinds: KINDS,
    summary: "A binding has a `default` service account as subject.",
    rationale: "Every pod that does not name a service account runs as `default`, so the \
permissions go to every such workload of the namespace, present and future.",
    remediation: "Create a dedicated service account for the workload that needs the \
permissions and bind the role to it.",
    references: &[Reference::new(Framework::Cis, "5.1.5"), RBAC_DOCS],
    fix: None,
}

impl InventoryRule for DefaultServiceAccountBinding {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::DefaultServiceAccountBinding, out);
    }
}

impl Judge for DefaultServiceAccountBinding {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::DefaultServiceAccountBinding {
            binding,
            role_ref,
            namespace,
        } = fact
        else {
            return None;
        };
        Some((
            format!(
                "{binding} grants {} {} to the default service account of namespace \
                     {namespace}, which every pod without a service account uses",
                role_ref.kind, role_ref.name
            ),
            self.meta().severity,
        ))
    }
}
