//! What the service-account rules need to know about a pod's service account: its name, and,
//! from the rest of the input, its `ServiceAccount` object and the bindings that grant it roles.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use palisade_core::views::PodSpecView;
use palisade_core::Object;
use palisade_rbac::{binding_subjects, SubjectEntry};
use serde_json::Value;

use crate::{Inventory, Objects};

/// Kinds the service-account rules read: workloads, service accounts and role bindings.
pub const KINDS: &[&str] =
    &palisade_core::views::kinds::<{ palisade_core::views::WORKLOAD_KINDS.len() + 3 }>(
        &["ServiceAccount", "RoleBinding", "ClusterRoleBinding"],
        false,
    );

/// The fields of a pod spec these rules read, relative to the pod spec.
pub const POD_SPEC_READS: &[&str] = &[
    "/serviceAccountName",
    "/serviceAccount",
    "/automountServiceAccountToken",
];

/// The service account a pod runs as: `serviceAccountName`, else the deprecated
/// `serviceAccount` (the API server copies it into an unset or empty `serviceAccountName`),
/// else `default`.
pub fn account_name<'a>(spec: &PodSpecView<'a>) -> &'a str {
    ["serviceAccountName", "serviceAccount"]
        .iter()
        .find_map(|f| {
            spec.spec
                .get(*f)
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
        })
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

/// The service accounts and role-binding subjects of an input, indexed once (and shared by the
/// rules, [`Inventory::shared`]) so that each workload is a lookup rather than a scan of the
/// whole input.
pub struct Accounts {
    /// `ServiceAccount` objects by name.
    accounts: HashMap<String, Vec<Account>>,
    /// Namespaces (when known) of the service-account subjects of bindings, by account name.
    bound: HashMap<String, Vec<Option<String>>>,
    /// Group and user subjects of bindings.
    groups: HashSet<String>,
    users: HashSet<String>,
}

/// What the rules read of a `ServiceAccount` object.
pub struct Account {
    namespace: Option<String>,
    /// Its `automountServiceAccountToken`, if a boolean.
    automount: Option<bool>,
}

impl Accounts {
    /// The index of the input's objects, built once for the rules of a run.
    pub fn of(inventory: &Inventory<'_>) -> Arc<Accounts> {
        inventory.shared(Accounts::new)
    }

    fn new(objects: Objects<'_>) -> Self {
        let mut index = Accounts {
            accounts: HashMap::new(),
            bound: HashMap::new(),
            groups: HashSet::new(),
            users: HashSet::new(),
        };
        for entry in objects.iter() {
            match entry.kind() {
                "ServiceAccount" => {
                    let automount = entry
                        .value_at("/automountServiceAccountToken")
                        .and_then(|value| value.as_bool());
                    index
                        .accounts
                        .entry(entry.name().to_owned())
                        .or_default()
                        .push(Account {
                            namespace: entry.namespace().map(str::to_owned),
                            automount,
                        });
                }
                "RoleBinding" | "ClusterRoleBinding" => {
                    index.add_binding(&entry.object_unlocated())
                }
                _ => {}
            }
        }
        index
    }

    fn add_binding(&mut self, binding: &Object) {
        for subject in binding_subjects(&binding.value, binding.namespace()) {
            match subject {
                SubjectEntry::ServiceAccount { name, namespace } => {
                    self.bound
                        .entry(name.to_owned())
                        .or_default()
                        .push(namespace.map(str::to_owned));
                }
                SubjectEntry::Group(name) => {
                    self.groups.insert(name.to_owned());
                }
                SubjectEntry::User(name) => {
                    self.users.insert(name.to_owned());
                }
                SubjectEntry::Unknown(_) => {}
            }
        }
    }

    /// The `ServiceAccount` object of `name` in the workload's namespace, if the input has it.
    pub fn account(&self, workload: &Object, name: &str) -> Option<&Account> {
        self.accounts
            .get(name)?
            .iter()
            .find(|sa| same_namespace(sa.namespace.as_deref(), workload.namespace()))
    }

    /// Whether some binding in the input grants a role to the service account.
    pub fn is_bound(&self, workload: &Object, name: &str) -> bool {
        let namespace = workload.namespace();
        self.bound.get(name).is_some_and(|namespaces| {
            namespaces
                .iter()
                .any(|ns| same_namespace(ns.as_deref(), namespace))
        }) || self.groups.contains("system:serviceaccounts")
            || namespace.is_some_and(|ns| {
                self.groups
                    .contains(format!("system:serviceaccounts:{ns}").as_str())
                    || self
                        .users
                        .contains(format!("system:serviceaccount:{ns}:{name}").as_str())
            })
    }
}

/// Whether the pod mounts an API token: the pod's field wins, then the service account's.
pub fn mounts_token(spec: &PodSpecView<'_>, account: Option<&Account>) -> bool {
    match spec.spec.get("automountServiceAccountToken") {
        Some(Value::Bool(value)) => *value,
        _ => account.and_then(|sa| sa.automount).unwrap_or(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;
    use palisade_core::{load_str, Limits};

    const INPUT: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: a, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects:
- {kind: ServiceAccount, name: builder}
- {kind: ServiceAccount, name: empty-ns, namespace: \"\"}
- {kind: ServiceAccount, name: elsewhere, namespace: ops}
- {kind: User, name: \"system:serviceaccount:app:runner\"}
- {kind: Robot, name: ignored}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects:
- {kind: ServiceAccount, name: anywhere}
- {kind: Group, name: \"system:serviceaccounts:batch\"}
---
apiVersion: v1
kind: Pod
metadata: {name: in-app, namespace: app}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: in-ops, namespace: ops}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: in-batch, namespace: batch}
spec: {containers: [{name: c, image: i}]}
";

    #[test]
    fn binding_subjects_bind_service_accounts_as_the_authorizer_reads_them() {
        let objects = load_str(INPUT, "a.yaml", &Limits::default()).objects;
        let settings = Settings::default();
        let inventory = Inventory::new(&objects, &settings);
        let accounts = Accounts::of(&inventory);
        let (app, ops, batch) = (&objects[2], &objects[3], &objects[4]);
        // A subject without a namespace lives in the binding's; an empty one too.
        assert!(accounts.is_bound(app, "builder"));
        assert!(!accounts.is_bound(ops, "builder"));
        assert!(accounts.is_bound(app, "empty-ns"));
        assert!(!accounts.is_bound(ops, "empty-ns"));
        assert!(accounts.is_bound(ops, "elsewhere"));
        assert!(!accounts.is_bound(app, "elsewhere"));
        // A ClusterRoleBinding gives no namespace: the subject may be anyone's.
        assert!(accounts.is_bound(ops, "anywhere"));
        // Service accounts named as users, and namespace groups.
        assert!(accounts.is_bound(app, "runner"));
        assert!(!accounts.is_bound(ops, "runner"));
        assert!(accounts.is_bound(batch, "anything"));
        assert!(!accounts.is_bound(app, "ignored"));
    }
}
