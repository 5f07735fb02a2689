//! The rule registry and every rule, one file per rule, grouped by area.
//!
//! A rule declares its [`RuleMeta`] once and implements [`Rule`]: either per object
//! ([`Rule::check`]), or over everything the input holds ([`Rule::check_inventory`]) for rules
//! that relate objects to each other (RBAC bindings to roles, NetworkPolicies to pods).

pub mod config;
pub mod docs;
pub mod fixes;
mod registry;
pub mod rules;
mod runner;
mod selection;
mod settings;

pub use config::{Config, ConfigError, Suppression};
pub use palisade_core::rule::{
    Applicability, Finding, Fix, FixSafety, Framework, Reference, RuleMeta, Severity,
};
pub use registry::{
    find, registry, Checker, Emit, Entry, EventCx, EventRule, Inventory, InventoryRule, NodeCx,
    NodeEmit, NodeRule, ObjectCx, ObjectRule, Objects, RequestObject, Rule,
};
pub use runner::{Engine, EngineError, Kept, IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION};
pub use selection::{resolve_selector, select_rules, SelectorError};
pub use settings::{DefaultResources, Settings};
