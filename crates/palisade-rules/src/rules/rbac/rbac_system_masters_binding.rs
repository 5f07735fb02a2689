use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// A binding to the system:masters group.
    pub struct SystemMastersBinding;
    checks: Inventory,
    id: "RBAC017",
    slug: "rbac-system-masters-binding",
    title: "Binding names the system:masters group",
    severity: Severity::Medium,
    category: "rbac",
    kinds: KINDS,
    summary: "A RoleBinding or ClusterRoleBinding has the group `system:masters` among its \
subjects. The API server's default `cluster-admin` ClusterRoleBinding, which binds the group \
to `cluster-admin`, is not reported.",
    rationale: "Members of `system:masters` pass every authorization check: the API server \
lets them do anything without asking RBAC, and no role or binding can restrict them. A binding \
to the group therefore grants nothing; it either shows that someone issues credentials of the \
group (client certificates with `O=system:masters`, which cannot be revoked short of rotating \
the cluster CA), or that its author expects RBAC to apply to it.",
    remediation: "Remove the subject. Give the people or tools that need broad access a \
group of their own bound to a role that grants what they need (`cluster-admin` at most), so \
that removing the binding takes the access away; keep `system:masters` credentials for \
break-glass use only.",
    references: &[Reference::new(Framework::Cis, "5.1.7"), RBAC_DOCS],
    fix: None,
}

impl InventoryRule for SystemMastersBinding {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::SystemMastersBinding, out);
    }
}

impl Judge for SystemMastersBinding {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::SystemMastersBinding { binding, role_ref } = fact else {
            return None;
        };
        Some((
            format!(
                "{binding} grants {} {} to Group system:masters, whose members bypass RBAC: \
                 the binding grants them nothing, and their access cannot be taken away by \
                 removing it",
                role_ref.kind, role_ref.name
            ),
            self.meta().severity,
        ))
    }
}
