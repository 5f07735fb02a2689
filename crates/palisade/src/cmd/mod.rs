//! The subcommands.

// Live cluster.
pub mod cluster;

pub mod completions;
pub mod fix;
// Incident response.
pub mod isolate;
pub mod man;
pub mod netpol;
pub mod pss;
pub mod rbac;
pub mod rules;
pub mod scan;
pub mod serve;
