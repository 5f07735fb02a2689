use palisade_core::rule::{Framework, Reference, Severity};
use palisade_netpol::CheckKind;

use super::{report, SELECTS_NOTHING_KINDS};
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
    kinds: SELECTS_NOTHING_KINDS,
    summary: "The `podSelector` of a NetworkPolicy matches none of the pods of its namespace \
that the input defines, while the directory of the policy defines some of them (pods of the \
namespace defined elsewhere are not known to be its targets). The pods are those of the \
workloads, and those that known operators create from custom resources: the Prometheus \
Operator's `Prometheus`, `PrometheusAgent`, `Alertmanager` and `ThanosRuler` (pods labelled \
with the resource's `spec.podMetadata.labels` and the operator's own labels, such as \
`app.kubernetes.io/name: prometheus` and `prometheus: <name>`) and the agent sandbox's \
`SandboxTemplate` (its `spec.podTemplate.metadata.labels`). A requirement on a label whose \
value only the cluster knows (`app.kubernetes.io/version`, `operator.prometheus.io/shard`, \
`controller-revision-hash`, `statefulset.kubernetes.io/pod-name`) is taken as met. Pods that \
other controllers create from custom resources are not known: a policy for them is reported \
when its directory also defines workloads. Policies without a namespace are compared with the \
pods without a namespace in the same directory.",
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
