//! palisade-netpol: exact NetworkPolicy reachability from manifests.
//!
//! The model ([`Input`]) is built from loaded objects: workloads (Pods and the pod templates
//! of Deployments, StatefulSets, …), namespaces, NetworkPolicies, AdminNetworkPolicies and
//! the BaselineAdminNetworkPolicy, Services and Ingress/Route objects. [`connlist`] lists
//! every allowed connection as netpol-analyzer does and [`render`] prints it; [`eval`]
//! decides a single connection; [`explain`] says which rules decide each pair; [`checks`]
//! reports configuration problems for `palisade scan`.

mod checks;
mod connlist;
mod engine;
mod eval;
mod index;
mod model;
mod sets;

pub use checks::{checks, Check, CheckKind};
pub use connlist::{connlist, render, ConnList, Connection, Direction, Format, ListOptions};
pub use engine::{Step, Verdict};
pub use eval::{eval, explain, EvalError, EvalResult};
pub use model::{
    load_dir, reads_kind, Input, NetworkPolicy, OperatedPods, PodMaker, PolicyTypes, POD_MAKERS,
    POD_MAKER_KINDS, POD_METADATA_READS, POD_SPEC_READS, WORKLOAD_READS,
};
pub use sets::{ConnSet, Protocol};
