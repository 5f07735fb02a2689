use palisade_core::rule::Severity;
use palisade_netpol::CheckKind;

use super::{report, ISOLATION_REFERENCES, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Namespace has no default-deny ingress NetworkPolicy.
    pub struct NoDefaultDenyIngress;
    checks: Inventory,
    id: "NET001",
    slug: "no-default-deny-ingress",
    title: "Namespace has no default-deny ingress NetworkPolicy",
    severity: Severity::Medium,
    category: "network",
    kinds: KINDS,
    summary: "A namespace that runs workloads has no NetworkPolicy that selects all of its pods (an empty \
`podSelector`) for ingress without allowing everything back. Reported once per namespace, at \
its first workload in the input. Objects without `metadata.namespace` are not reported: their \
namespace, and the policies in it, are decided when they are deployed.",
    rationale: "Without a policy isolating them, pods accept connections from every pod in the cluster and \
from anywhere the network routes to them. One compromised pod can then reach every service, \
including those never meant to be exposed (databases, admin endpoints, metrics). A default \
deny makes every allowed flow an explicit, reviewable rule.",
    remediation: "Add a policy that selects every pod of the namespace and allows nothing, then allow the \
flows each workload needs with further policies:\n\n```yaml\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  \
name: default-deny-ingress\n  namespace: shop\nspec:\n  podSelector: {}\n  policyTypes:\n  - Ingress\n```",
    references: ISOLATION_REFERENCES,
    fix: None,
}

impl InventoryRule for NoDefaultDenyIngress {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, CheckKind::NoDefaultDenyIngress, out);
    }
}
