//! Rules of the `policy` area.

pub mod policy_violation;
