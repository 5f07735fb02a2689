//! Which writes to a workload resource run new code: the one table the risks and the
//! escalation paths read.

use palisade_core::views::workload_kind;

/// A kind of [`palisade_core::views::WORKLOADS`] as RBAC names it, with whether an update can
/// change the code its pods run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadResource {
    /// The kind, as `WORKLOADS` names it.
    pub kind: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    /// Whether `update` or `patch` can change the code the pods run: a pod template that may
    /// change after creation, or (for a Pod) its containers' images.
    pub code_mutable: bool,
}

const fn workload(
    kind: &'static str,
    group: &'static str,
    resource: &'static str,
    code_mutable: bool,
) -> WorkloadResource {
    WorkloadResource {
        kind,
        group,
        resource,
        code_mutable,
    }
}

/// Every kind of `WORKLOADS`, in its order. A Pod's containers may change their image only; a
/// Job's pod template cannot change after creation (its scheduling fields aside), a CronJob's
/// job template can, as can the templates of the controllers that roll out changes.
pub const WORKLOAD_RESOURCES: &[WorkloadResource] = &[
    workload("Pod", "", "pods", true),
    workload("Deployment", "apps", "deployments", true),
    workload("ReplicaSet", "apps", "replicasets", true),
    workload("StatefulSet", "apps", "statefulsets", true),
    workload("DaemonSet", "apps", "daemonsets", true),
    workload("Job", "batch", "jobs", false),
    workload("CronJob", "batch", "cronjobs", true),
    workload("ReplicationController", "", "replicationcontrollers", true),
    workload("PodTemplate", "", "podtemplates", true),
];

impl WorkloadResource {
    /// The verbs on the resource that run new code: none for a kind that runs no pods,
    /// `create`, and `update` and `patch` when the code can change after creation.
    pub fn code_verbs(&self) -> &'static [&'static str] {
        if !workload_kind(self.kind).is_some_and(|w| w.runs_pods) {
            &[]
        } else if self.code_mutable {
            &["create", "update", "patch"]
        } else {
            &["create"]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::views::WORKLOAD_KINDS;

    #[test]
    fn every_workload_kind_has_one_entry_in_order() {
        let kinds: Vec<&str> = WORKLOAD_RESOURCES.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, WORKLOAD_KINDS);
    }

    #[test]
    fn jobs_run_new_code_when_created_only() {
        let verbs = |kind: &str| {
            WORKLOAD_RESOURCES
                .iter()
                .find(|w| w.kind == kind)
                .unwrap()
                .code_verbs()
        };
        assert_eq!(verbs("Job"), ["create"]);
        assert_eq!(verbs("CronJob"), ["create", "update", "patch"]);
        assert_eq!(verbs("Pod"), ["create", "update", "patch"]);
        assert!(verbs("PodTemplate").is_empty());
    }
}
