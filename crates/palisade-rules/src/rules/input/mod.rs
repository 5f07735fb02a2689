//! Rules about the manifest text itself.

pub mod duplicate_key;
