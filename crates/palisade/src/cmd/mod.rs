//! The subcommands.

pub mod completions;
pub mod fix;
pub mod man;
pub mod netpol;
pub mod policy;
pub mod pss;
pub mod rbac;
pub mod rules;
pub mod scan;
pub mod serve;
