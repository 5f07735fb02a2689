//! Fixture loading shared by the integration tests.

use std::path::Path;

use palisade_core::{load_path, Limits};
use serde_json::Value;

/// Every object of `tests/fixtures/<name>`.
pub fn fixture(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let loaded = load_path(&path, name, &Limits::default());
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
    loaded.objects.into_iter().map(|o| o.value).collect()
}
