//! The subcommands.

pub mod fix;
pub mod rules;
pub mod scan;
