//! NetworkPolicy rules: default deny per namespace, workloads no policy covers, and policies
//! that allow too much, match nothing or hold rules Kubernetes ignores. All but the last read
//! the NetworkPolicy engine's checks over the whole input, computed once per input and shared
//! by the rules; the rules a policy's `policyTypes` ignores are found one policy at a time.

pub mod egress_to_metadata_allowed;
pub mod no_default_deny_egress;
pub mod no_default_deny_ingress;
pub mod policy_allows_all_ingress;
pub mod policy_rules_ignored;
pub mod policy_selects_nothing;
pub mod unknown_named_port;
pub mod workload_not_selected_by_policy;

use std::path::Path;

use palisade_core::rule::{Framework, Reference};
use palisade_core::Object;
use palisade_netpol::{checks, reads_kind, Check, CheckKind, Input, POD_MAKER_KINDS};

use crate::{Emit, Entry, Inventory};

/// The references of the rules about pods that no policy isolates.
pub(crate) const ISOLATION_REFERENCES: &[Reference] = &[
    Reference::new(Framework::Cis, "5.3.2"),
    Reference::new(Framework::NsaCisa, "Network separation and hardening"),
    Reference::url(
        Framework::Mitre,
        "T1046",
        "https://attack.mitre.org/techniques/T1046/",
    ),
    Reference::url(
        Framework::Docs,
        "Network Policies",
        "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
    ),
];

/// What the network rules read: namespaces, every kind of policy and the workloads.
pub(crate) const KINDS: &[&str] =
    &palisade_core::views::kinds::<{ palisade_core::views::POD_RUNNING_KINDS.len() + 4 }>(
        &[
            "Namespace",
            "NetworkPolicy",
            "AdminNetworkPolicy",
            "BaselineAdminNetworkPolicy",
        ],
        true,
    );

/// What NET006 reads: [`KINDS`] and the custom resources whose controllers' pods the engine
/// knows.
pub(crate) const SELECTS_NOTHING_KINDS: &[&str] =
    &concat::<{ KINDS.len() + POD_MAKER_KINDS.len() }>(KINDS, &POD_MAKER_KINDS);

const fn concat<const N: usize>(a: &[&'static str], b: &[&'static str]) -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < a.len() {
        out[i] = a[i];
        i += 1;
    }
    while i < N {
        out[i] = b[i - a.len()];
        i += 1;
    }
    out
}

/// The NetworkPolicy engine's checks over the input, shared by the network rules.
struct Analysis {
    checks: Vec<Check>,
}

/// Objects without `metadata.namespace` get their namespace when they are applied (kustomize,
/// `kubectl -n`, Helm). Those of one directory usually land together, so each directory is
/// analysed as a namespace of its own.
pub(crate) fn unset_namespace(object: &Object) -> String {
    let dir = Path::new(&object.source.path)
        .parent()
        .map(|d| d.display().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| ".".to_owned());
    format!("(none, in {dir}/)")
}

/// The checks over `inventory`'s objects, decoded one at a time as the model is built.
fn analysis(inventory: &Inventory<'_>) -> Analysis {
    let objects = inventory
        .objects
        .unlocated_where(|entry| reads_kind(entry.kind()));
    let input = Input::from_indexed(objects, &unset_namespace);
    Analysis {
        checks: checks(&input),
    }
}

fn has_namespace(object: Entry<'_>) -> bool {
    object.namespace().is_some_and(|ns| !ns.is_empty())
}

/// Emits the checks of one kind. Namespace-level checks are skipped for objects without a
/// namespace: their namespace, and the policies it holds, are decided at deploy time.
pub(crate) fn report(inventory: &Inventory<'_>, kind: CheckKind, out: &mut Vec<(usize, Emit)>) {
    let namespace_level = matches!(
        kind,
        CheckKind::NoDefaultDenyIngress | CheckKind::NoDefaultDenyEgress
    );
    let analysis = inventory.shared(|_| analysis(inventory));
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
