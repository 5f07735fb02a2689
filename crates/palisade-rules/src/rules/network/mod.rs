//! NetworkPolicy rules: default deny per namespace, workloads no policy covers, and policies
//! that allow too much or match nothing. All of them read the NetworkPolicy engine's checks
//! over the whole input, computed once per input and shared by the rules.

pub mod allow_all_ingress;
pub mod metadata_egress;
pub mod no_default_deny_egress;
pub mod no_default_deny_ingress;
pub mod selector_matches_nothing;
pub mod unknown_named_port;
pub mod workload_not_selected;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use palisade_core::Object;
use palisade_netpol::{checks, Check, CheckKind, Input};

use crate::{Emit, Inventory};

/// What the network rules read: namespaces, every kind of policy and the workloads.
pub(crate) const KINDS: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

/// The checks of the last input analysed, with a copy of that input to recognise it.
struct Analysis {
    objects: Vec<Object>,
    checks: Vec<Check>,
}

static LAST: Mutex<Option<Arc<Analysis>>> = Mutex::new(None);

fn same_objects(a: &[Object], b: &[Object]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.document == y.document
                && x.item == y.item
                && x.source.path == y.source.path
                && x.value == y.value
        })
}

/// Objects without `metadata.namespace` get their namespace when they are applied (kustomize,
/// `kubectl -n`, Helm). Those of one directory usually land together, so each directory is
/// analysed as a namespace of its own.
fn unset_namespace(object: &Object) -> String {
    let dir = Path::new(&object.source.path)
        .parent()
        .map(|d| d.display().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_owned());
    format!("(none, in {dir}/)")
}

/// The checks over `objects`: computed once, then reused by the next rule on the same input.
fn analysis(objects: &[Object]) -> Arc<Analysis> {
    let mut last = LAST.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(hit) = last.as_ref().filter(|a| same_objects(&a.objects, objects)) {
        return Arc::clone(hit);
    }
    let input = Input::from_objects_with(objects.to_vec(), &unset_namespace);
    let found = checks(&input);
    let fresh = Arc::new(Analysis {
        objects: input.objects,
        checks: found,
    });
    *last = Some(Arc::clone(&fresh));
    fresh
}

fn has_namespace(object: &Object) -> bool {
    object.namespace().is_some_and(|ns| !ns.is_empty())
}

/// Emits the checks of one kind. Namespace-level checks are skipped for objects without a
/// namespace: their namespace, and the policies it holds, are decided at deploy time.
pub(crate) fn report(inventory: &Inventory<'_>, kind: CheckKind, out: &mut Vec<(usize, Emit)>) {
    let namespace_level = matches!(
        kind,
        CheckKind::NoDefaultDenyIngress | CheckKind::NoDefaultDenyEgress
    );
    let analysis = analysis(inventory.objects);
    for check in analysis.checks.iter().filter(|c| c.kind == kind) {
        let Some(object) = inventory.objects.get(check.object) else {
            continue;
        };
        if namespace_level && !has_namespace(object) {
            continue;
        }
        out.push((
            check.object,
            Emit::new(check.pointer.clone(), check.message.clone()),
        ));
    }
}
