//! Which writes to a workload resource run new code: the one answer the risks and the
//! escalation paths read, from [`palisade_core::views::WORKLOADS`].

use palisade_core::views::WorkloadKind;

/// The verbs on a workload resource that run new code: none for a kind that runs no pods,
/// `create`, and `update` and `patch` when the code can change after creation.
pub fn code_verbs(workload: &WorkloadKind) -> &'static [&'static str] {
    if !workload.runs_pods {
        &[]
    } else if workload.code_mutable {
        &["create", "update", "patch"]
    } else {
        &["create"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::views::workload_kind;

    #[test]
    fn jobs_run_new_code_when_created_only() {
        let verbs = |kind: &str| code_verbs(workload_kind(kind).unwrap());
        assert_eq!(verbs("Job"), ["create"]);
        assert_eq!(verbs("CronJob"), ["create", "update", "patch"]);
        assert_eq!(verbs("Pod"), ["create", "update", "patch"]);
        assert_eq!(verbs("DeploymentConfig"), ["create", "update", "patch"]);
        assert!(verbs("PodTemplate").is_empty());
    }
}
