//! The subcommands.

pub mod rules;
pub mod scan;
