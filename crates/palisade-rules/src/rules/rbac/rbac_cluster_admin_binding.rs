use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{lower, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Binding to cluster-admin.
    pub struct ClusterAdminBinding;
    checks: Inventory,
    id: "RBAC011",
    slug: "rbac-cluster-admin-binding",
    title: "Binding grants cluster-admin",
    severity: Severity::Critical,
    category: "rbac",
    kinds: KINDS,
    summary: "A ClusterRoleBinding or RoleBinding refers to the `cluster-admin` \
ClusterRole: critical for a ClusterRoleBinding (like a role with `*` verbs, groups and resources, \
RBAC010), high for a RoleBinding (the namespace only). The message names the subjects; a service account without a namespace (in a \
kustomize base, whose overlay sets the namespace) is named with its namespace not set yet.",
    rationale: "cluster-admin allows everything: bound cluster-wide it owns the cluster, \
bound in a namespace it owns the namespace (its secrets, service accounts and RBAC).",
    remediation: "Bind a role with the permissions the subject needs; keep cluster-admin \
for break-glass access.",
    references: &[Reference::new(Framework::Cis, "5.1.1"), RBAC_DOCS],
    fix: None,
}

impl InventoryRule for ClusterAdminBinding {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::ClusterAdminBinding, out);
    }
}

impl Judge for ClusterAdminBinding {
    /// A RoleBinding gives cluster-admin over its namespace only: a step lower.
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::ClusterAdminBinding {
            binding,
            subjects,
            unnamespaced,
        } = fact
        else {
            return None;
        };
        let (severity, where_) = match &binding.namespace {
            None => (self.meta().severity, "the whole cluster".to_owned()),
            Some(ns) => (lower(self.meta().severity), format!("namespace {ns}")),
        };
        let who: Vec<String> = subjects
            .iter()
            .map(ToString::to_string)
            .chain(
                unnamespaced
                    .iter()
                    .map(|name| format!("ServiceAccount {name} (namespace not set yet)")),
            )
            .collect();
        let who = if who.is_empty() {
            "no subject yet".to_owned()
        } else {
            who.join(", ")
        };
        Some((
            format!("{binding} gives cluster-admin over {where_} to {who}"),
            severity,
        ))
    }
}
