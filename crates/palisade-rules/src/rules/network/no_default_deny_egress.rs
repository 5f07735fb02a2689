use palisade_core::rule::Severity;
use palisade_netpol::CheckKind;

use super::{report, ISOLATION_REFERENCES, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Namespace has no default-deny egress NetworkPolicy.
    pub struct NoDefaultDenyEgress;
    checks: Inventory,
    id: "NET002",
    slug: "no-default-deny-egress",
    title: "Namespace has no default-deny egress NetworkPolicy",
    severity: Severity::Low,
    category: "network",
    kinds: KINDS,
    summary: "A namespace that runs workloads has no NetworkPolicy that selects all of its pods (an empty \
`podSelector`) for egress without allowing everything back. Reported once per namespace, at \
its first workload in the input. Objects without `metadata.namespace` are not reported: their \
namespace, and the policies in it, are decided when they are deployed.",
    rationale: "Unrestricted egress lets a compromised pod scan the cluster, reach the cloud metadata \
service, and send data or open a reverse shell anywhere. Egress control is harder to get \
right than ingress (DNS must stay open), hence the lower severity, but it is what stops an \
intrusion from spreading.",
    remediation: "Deny egress by default and allow DNS and the destinations each workload needs:\n\n\
```yaml\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny-egress\n  \
namespace: shop\nspec:\n  podSelector: {}\n  policyTypes:\n  - Egress\n  egress:\n  - to:\n    - \
namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: kube-system\n      \
podSelector:\n        matchLabels:\n          k8s-app: kube-dns\n    ports:\n    - protocol: UDP\n      \
port: 53\n    - protocol: TCP\n      port: 53\n```",
    references: ISOLATION_REFERENCES,
    fix: None,
}

impl InventoryRule for NoDefaultDenyEgress {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, CheckKind::NoDefaultDenyEgress, out);
    }
}
