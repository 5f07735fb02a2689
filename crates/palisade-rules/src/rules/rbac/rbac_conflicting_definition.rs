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
name of an earlier object of the input with other content (other rules, labels or \
aggregation; another role or other subjects). Reported at the later definition's name. Both \
definitions are kept: the other RBAC rules judge each role with the bindings nearest to it in \
the file tree (the same file, then the most folders in common), so that the projects of one \
input (say Kubeflow's pvcviewer and tensorboard controllers, which both define \
`manager-rolebinding`) are judged each with its own bindings. Identical copies are not \
reported.",
    rationale: "Applied to one cluster, the definition applied last replaces the other: one \
project's service accounts silently get the other project's permissions, or lose their own.",
    remediation: "Give the objects of each project names of their own (a kustomize \
`namePrefix`, say), or remove the copy that is not meant to be applied. Definitions that never \
meet in one cluster (alternative install manifests of one project, kustomize bases that a \
`namePrefix` renames when built) can be left as they are: suppress the rule for their paths.",
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
        let RiskFact::ConflictingDefinition { object, earlier } = fact else {
            return None;
        };
        Some((
            format!(
                "{object} is also defined, differently, in {earlier}: two definitions of one \
                 object, of which a cluster keeps the one applied last; each is judged here with \
                 the bindings nearest to it"
            ),
            self.meta().severity,
        ))
    }
}
