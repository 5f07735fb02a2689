use palisade_core::rule::{Framework, Reference, Severity};
use palisade_netpol::CheckKind;

use super::{report, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// NetworkPolicy selects no workload.
    pub struct SelectorMatchesNothing;
    checks: Inventory,
    id: "NET006",
    slug: "policy-selects-nothing",
    title: "NetworkPolicy selects no workload",
    severity: Severity::Low,
    category: "network",
    kinds: KINDS,
    summary: "The `podSelector` of a NetworkPolicy matches none of the workloads of its \
namespace, while the directory of the policy defines workloads of that namespace (pods of the \
namespace defined elsewhere, or created by operators, are not known to be its targets). \
Policies without a namespace are compared with the workloads without a namespace in the same \
directory.",
    rationale: "A policy that selects nothing protects nothing. Most often its selector has a typo or uses \
a label the pods no longer carry, and the pods it was written for are unrestricted while the \
review of the policy suggests otherwise.",
    remediation: "Match the labels the pod template really carries:\n\n```yaml\nspec:\n  podSelector:\n    \
matchLabels:\n      app.kubernetes.io/name: checkout\n```\n\nor delete the policy if its \
workload is gone.",
    references: &[
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::new(Framework::Cis, "5.3.2"),
        Reference::url(
            Framework::Docs,
            "Network Policies",
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        ),
    ],
    fix: None,
}

impl InventoryRule for SelectorMatchesNothing {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, CheckKind::SelectorMatchesNothing, out);
    }
}
