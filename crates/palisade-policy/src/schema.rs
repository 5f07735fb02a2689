//! The part of OpenAPI v3 (structural schema) validation that a constraint's parameters go
//! through: types, properties, items, additionalProperties, enum, required, int-or-string.

use serde_json::Value;

const MAX_DEPTH: usize = 64;

/// Every violation of `schema` by `value`, each with its field path.
pub(crate) fn validate(value: &Value, schema: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(value, schema, "spec.parameters", 0, &mut errors);
    errors
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn check(value: &Value, schema: &Value, path: &str, depth: usize, errors: &mut Vec<String>) {
    if depth > MAX_DEPTH || !schema.is_object() {
        return;
    }
    if value.is_null() {
        if schema.get("nullable").and_then(Value::as_bool) != Some(true)
            && schema.get("type").is_some()
            && depth > 0
        {
            errors.push(format!("{path}: null is not allowed"));
        }
        return;
    }
    let actual = type_name(value);
    let int_or_string = schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true);
    if int_or_string {
        if actual != "integer" && actual != "string" {
            errors.push(format!(
                "{path}: must be an integer or a string, got {actual}"
            ));
            return;
        }
    } else if let Some(expected) = schema.get("type").and_then(Value::as_str) {
        let ok = match expected {
            "number" => matches!(actual, "number" | "integer"),
            "integer" => {
                actual == "integer"
                    || value
                        .as_f64()
                        .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
            }
            other => other == actual,
        };
        if !ok {
            errors.push(format!("{path}: must be of type {expected}, got {actual}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            errors.push(format!(
                "{path}: {value} is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
    }
    match value {
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(
                        item,
                        item_schema,
                        &format!("{path}[{i}]"),
                        depth + 1,
                        errors,
                    );
                }
            }
        }
        Value::Object(map) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            if let Some(required) = schema.get("required").and_then(Value::as_array) {
                for key in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(key) {
                        errors.push(format!("{path}.{key}: required"));
                    }
                }
            }
            for (key, child) in map {
                let child_path = format!("{path}.{key}");
                if let Some(prop) = properties.and_then(|p| p.get(key)) {
                    check(child, prop, &child_path, depth + 1, errors);
                } else if let Some(extra) = schema.get("additionalProperties") {
                    match extra {
                        Value::Bool(false) if properties.is_some() => {
                            errors.push(format!("{child_path}: unknown field"));
                        }
                        Value::Object(_) => check(child, extra, &child_path, depth + 1, errors),
                        _ => {}
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_items_enum_and_required_are_checked() {
        let schema = json!({"type": "object", "required": ["repos"], "properties": {
            "repos": {"type": "array", "items": {"type": "string"}},
            "mode": {"type": "string", "enum": ["a", "b"]},
            "limit": {"type": "integer"},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}
        }});
        assert!(validate(&json!({"repos": ["x"], "mode": "a", "limit": 3}), &schema).is_empty());
        let errors = validate(
            &json!({"repos": ["x", 1], "mode": "c", "limit": "3", "labels": {"k": 1}}),
            &schema,
        );
        assert_eq!(
            errors,
            vec![
                "spec.parameters.repos[1]: must be of type string, got integer",
                "spec.parameters.mode: \"c\" is not one of [\"a\",\"b\"]",
                "spec.parameters.limit: must be of type integer, got string",
                "spec.parameters.labels.k: must be of type string, got integer",
            ]
        );
        assert_eq!(
            validate(&json!({}), &schema),
            vec!["spec.parameters.repos: required"]
        );
    }
}
