use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Kubelet API through nodes/proxy.
    pub struct NodesProxy;
    checks: Inventory,
    id: "RBAC007",
    slug: "rbac-nodes-proxy",
    title: "Role can reach the kubelet API through nodes/proxy",
    severity: Severity::Critical,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows `get` or `create` on `nodes/proxy`.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "nodes/proxy forwards requests to the kubelet API of every node, which \
runs commands in any container of the node (`/exec`, `/run`) without the API server's \
pod-level authorization or audit of the command.",
    remediation: "Grant `nodes/metrics` or `nodes/stats` for monitoring instead; keep \
nodes/proxy for the API server's own kubelet client.",
    references: &[
        crate::Reference::new(crate::Framework::Cis, "5.1.10"),
        mitre("T1609", "https://attack.mitre.org/techniques/T1609/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for NodesProxy {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::NodesProxy, out);
    }
}

impl Judge for NodesProxy {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "reach the kubelet API of nodes", fact)
    }
}
