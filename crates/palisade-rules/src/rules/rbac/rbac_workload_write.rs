use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Pods or workloads writable.
    pub struct WorkloadWrite;
    checks: Inventory,
    id: "RBAC002",
    slug: "rbac-workload-write",
    title: "Role can create or change pods or workloads",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows a write that runs new code on pods or on a workload resource: \
`create` on pods, Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs and \
ReplicationControllers, and `update` or `patch` where the code the pods run can change after \
creation: a Pod's container images and the pod templates of all of these but Jobs. A Job's pod \
template cannot change once it is created, so `update` and `patch` on jobs are not reported; \
PodTemplate objects run no pods and are not reported either.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "Whoever can run a pod in a namespace can run it as any service account of \
the namespace, mount any secret, ConfigMap or volume of the namespace, and, unless Pod \
Security admission stops it, run privileged on the node. The permission is therefore worth \
every permission of every service account and every secret in its scope.",
    remediation: "Let people and CI deploy through a reviewed pipeline or a GitOps \
controller; keep workload write access namespaced, enforce the `restricted` Pod Security \
level in those namespaces, and avoid cluster-wide workload write outside controllers.",
    references: &[
        Reference::new(Framework::Cis, "5.1.4"),
        mitre("T1610", "https://attack.mitre.org/techniques/T1610/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for WorkloadWrite {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::WorkloadWrite, out);
    }
}

impl Judge for WorkloadWrite {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "create or change pods or workloads", fact)
    }
}
