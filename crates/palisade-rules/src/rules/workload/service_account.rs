//! What the service-account rules need to know about a pod's service account: its name, and,
//! from the rest of the input, its `ServiceAccount` object and the bindings that grant it roles.

use palisade_core::views::PodSpecView;
use palisade_core::Object;
use serde_json::Value;

use crate::Inventory;

/// Kinds the service-account rules read: workloads, service accounts and role bindings.
pub const KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "PodTemplate",
    "ServiceAccount",
    "RoleBinding",
    "ClusterRoleBinding",
];

/// The service account a pod runs as (`default` when unset).
pub fn account_name<'a>(spec: &PodSpecView<'a>) -> &'a str {
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|f| spec.spec.get(*f).and_then(Value::as_str))
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
}

/// Whether two optional namespaces can be the same (an object without one is applied to a
/// namespace chosen later, so it matches any).
fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The `ServiceAccount` object of `name` in the workload's namespace, if the input has it.
pub fn account_object<'a>(
    inventory: &Inventory<'a>,
    workload: &Object,
    name: &str,
) -> Option<&'a Object> {
    inventory
        .of_kind(&["ServiceAccount"])
        .find(|sa| sa.name() == name && same_namespace(sa.namespace(), workload.namespace()))
}

/// Whether some binding in the input grants a role to the service account.
pub fn is_bound(inventory: &Inventory<'_>, workload: &Object, name: &str) -> bool {
    inventory
        .of_kind(&["RoleBinding", "ClusterRoleBinding"])
        .any(|binding| {
            let Some(Value::Array(subjects)) = binding.value.get("subjects") else {
                return false;
            };
            subjects.iter().any(|s| {
                let kind = s.get("kind").and_then(Value::as_str);
                let subject_name = s.get("name").and_then(Value::as_str).unwrap_or("");
                let subject_ns = s
                    .get("namespace")
                    .and_then(Value::as_str)
                    .or_else(|| binding.namespace());
                match kind {
                    Some("ServiceAccount") => {
                        subject_name == name && same_namespace(subject_ns, workload.namespace())
                    }
                    Some("Group") => {
                        subject_name == "system:serviceaccounts"
                            || workload.namespace().is_some_and(|ns| {
                                subject_name == format!("system:serviceaccounts:{ns}")
                            })
                    }
                    Some("User") => workload.namespace().is_some_and(|ns| {
                        subject_name == format!("system:serviceaccount:{ns}:{name}")
                    }),
                    _ => false,
                }
            })
        })
}

/// Whether the pod mounts an API token: the pod's field wins, then the service account's.
pub fn mounts_token(spec: &PodSpecView<'_>, account: Option<&Object>) -> bool {
    match spec.spec.get("automountServiceAccountToken") {
        Some(Value::Bool(value)) => *value,
        _ => account
            .and_then(|sa| sa.value.get("automountServiceAccountToken"))
            .and_then(Value::as_bool)
            .unwrap_or(true),
    }
}
