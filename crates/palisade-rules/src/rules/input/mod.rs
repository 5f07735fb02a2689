//! Rules about the manifest text itself.

pub mod duplicate_key;
pub mod duplicate_object;
