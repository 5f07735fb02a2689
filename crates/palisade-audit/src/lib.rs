//! Kubernetes audit events: a streaming reader for the API server's audit log and webhook
//! batches, the fields of Falco's `k8s_audit` source with the k8saudit and json plugins'
//! semantics, and Falco rules files (lists, macros, rules, the condition language) compiled once
//! and evaluated per event.
//!
//! The engine knows no palisade rule: palisade's own detections (rules `EVT…` in
//! `palisade-rules`) read [`Event`]s through its typed accessors.
//!
//! Two fields deliberately follow the plugin's documentation rather than its extractor, whose
//! code reads paths that never exist in an audit event: `ka.sourceips` reads the event's
//! `sourceIPs` (upstream reads `requestObject.rules[].sourceIPs`), and `*.eff_run_as_user` /
//! `*.eff_run_as_group` read the pod's and container's `securityContext` (upstream reads
//! `spec.runAsUser` and `containers[].runAsUser`).

pub mod cond;
pub mod event;
pub mod facts;
pub mod fields;
pub mod rules;
mod scan;
pub mod time;

pub use event::{
    open, read_batches, read_batches_of, read_events, Event, InputError, Item, BATCH_BYTES,
    BATCH_LINES, MAX_EVENT_BYTES, NOT_RECOGNIZED,
};
pub use facts::{AuthFailures, FailureSpike, Request};
pub use rules::{Alert, Matching, OutputFields, Priority, RulesError, RulesLoader, Ruleset};
