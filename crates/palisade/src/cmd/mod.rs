//! The subcommands.

pub mod audit;
pub mod cluster;
pub mod completions;
pub mod fix;
// Incident response.
pub mod isolate;
pub mod man;
pub mod netpol;
pub mod node;
pub mod policy;
pub mod pss;
pub mod rbac;
pub mod rbac_audit;
pub mod rules;
pub mod scan;
pub mod serve;
