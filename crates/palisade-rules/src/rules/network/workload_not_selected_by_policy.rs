use palisade_core::rule::Severity;
use palisade_netpol::CheckKind;

use super::{report, ISOLATION_REFERENCES, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// Workload is selected by no NetworkPolicy in a namespace that has some.
    pub struct WorkloadNotSelected;
    checks: Inventory,
    id: "NET003",
    slug: "workload-not-selected-by-policy",
    title: "Workload is selected by no NetworkPolicy in a namespace that has some",
    severity: Severity::Medium,
    category: "network",
    kinds: KINDS,
    summary: "The namespace of a workload has NetworkPolicies, but none of them selects the workload's \
pods, in either direction. Workloads without a namespace are compared with the policies \
without a namespace in the same directory. A namespace with no policy at all is reported by \
NET001 and NET002 instead.",
    rationale: "Policies only restrict the pods they select. A workload that no policy selects accepts and \
opens any connection, usually because its labels do not match the selectors its authors \
wrote (a renamed `app` label, a new component), while the namespace looks protected.",
    remediation: "Select the workload with a policy that allows what it needs, or add a namespace-wide \
default deny so that no pod is left out:\n\n```yaml\napiVersion: networking.k8s.io/v1\n\
kind: NetworkPolicy\nmetadata:\n  name: worker\n  namespace: shop\nspec:\n  podSelector:\n    \
matchLabels:\n      app: worker\n  policyTypes:\n  - Ingress\n  ingress: []\n```",
    references: ISOLATION_REFERENCES,
    fix: None,
}

impl InventoryRule for WorkloadNotSelected {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, CheckKind::WorkloadNotSelected, out);
    }
}
