//! Audit policy rules: what the API server's audit log records.

pub mod audit_logs_secret_bodies;
pub mod audit_policy_no_catch_all;

use palisade_core::Object;
use serde_json::Value;

/// The rules of an `audit.k8s.io` `Policy`, if the object is one.
pub fn policy_rules(object: &Object) -> Option<&Vec<Value>> {
    if object.group() != "audit.k8s.io" || object.kind() != "Policy" {
        return None;
    }
    match object.value.get("rules") {
        Some(Value::Array(rules)) => Some(rules),
        _ => None,
    }
}

/// Whether a non-empty list field restricts the rule.
pub fn restricts(rule: &Value, field: &str) -> bool {
    matches!(rule.get(field), Some(Value::Array(items)) if !items.is_empty())
}
