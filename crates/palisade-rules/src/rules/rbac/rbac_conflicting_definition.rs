use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Two different definitions of one role or binding.
    pub struct ConflictingDefinition;
    checks: Inventory,
    id: "RBAC015",
    slug: "rbac-conflicting-definition",
    title: "Role or binding is defined twice, differently",
    severity: Severity::Low,
    category: "rbac",
    kinds: KINDS,
    summary: "A Role, ClusterRole, RoleBinding or ClusterRoleBinding has the kind, namespace and \
name of an earlier object of the same file, with other content (other rules, labels or \
aggregation; another role or other subjects). Reported at the later definition's name; \
identical copies are not reported. Definitions of one name in different files are not \
reported: they are taken as separate projects (say Kubeflow's pvcviewer and tensorboard \
controllers, which both define `manager-rolebinding`) or as alternative install manifests of \
one project, and the other RBAC rules judge each definition with the bindings nearest to it in \
the file tree (the same file, then the most folders in common).",
    rationale: "Applying the file replaces the first definition with the second: the first never \
takes effect, and whoever reads the file believes it does.",
    remediation: "Remove the definition that is not meant to be applied, or give each object a \
name of its own.",
    references: &[RBAC_DOCS],
    fix: None,
}

impl InventoryRule for ConflictingDefinition {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::ConflictingDefinition, out);
    }
}

impl Judge for ConflictingDefinition {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::ConflictingDefinition { object } = fact else {
            return None;
        };
        Some((
            format!(
                "{object} is defined earlier in this file with other content: applying the file \
                 keeps only this definition"
            ),
            self.meta().severity,
        ))
    }
}
