use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// A binding to a role the input does not have.
    pub struct BindingMissingRole;
    checks: Inventory,
    id: "RBAC014",
    slug: "rbac-binding-missing-role",
    title: "Binding refers to a role that does not exist",
    severity: Severity::Medium,
    category: "rbac",
    kinds: KINDS,
    summary: "A RoleBinding refers to a Role that is not in the input although the input holds \
other Roles of the binding's namespace, or a RoleBinding or ClusterRoleBinding refers to a \
ClusterRole that is not in the input although the input holds other ClusterRoles. The \
default ClusterRoles of every cluster (`cluster-admin`, `admin`, `edit`, `view`, the \
bootstrap roles) and every `system:` ClusterRole are taken to exist; an input with no Role of \
the namespace (or no ClusterRole) is taken to be incomplete and is not reported.",
    rationale: "A binding to a missing role grants nothing today, but it is already in force: \
whoever later creates a role with that name (anyone who may create Roles in the namespace, \
or ClusterRoles) decides what its subjects may do, up to the creator's own permissions or \
beyond them with `escalate`. A leftover binding to a deleted or renamed role is also a sign \
that the RBAC of the application is not what its authors meant.",
    remediation: "Create the role the binding refers to, fix the `roleRef` name, or delete the \
binding.",
    references: &[RBAC_DOCS],
    fix: None,
}

impl InventoryRule for BindingMissingRole {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::MissingRole, out);
    }
}

impl Judge for BindingMissingRole {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::MissingRole {
            binding,
            role_ref,
            subjects,
        } = fact
        else {
            return None;
        };
        let whom = if subjects.is_empty() {
            "its subjects".to_owned()
        } else {
            subjects
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let holds = match &binding.namespace {
            Some(ns) if role_ref.kind == "Role" => format!("other Roles of namespace {ns}"),
            _ => "other ClusterRoles".to_owned(),
        };
        Some((
            format!(
                "{binding} refers to {} {}, which the input does not have although it holds \
                 {holds}: whoever creates it grants its permissions to {whom}",
                role_ref.kind, role_ref.name
            ),
            self.meta().severity,
        ))
    }
}
