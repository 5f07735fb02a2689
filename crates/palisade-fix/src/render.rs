//! Writing JSON values as YAML (or JSON) text that decodes back to exactly the same value.

use palisade_core::{decode_first_document, Limits};
use serde_json::Value;

/// How new text is laid out, learned from the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    /// Spaces per nesting level of block mappings.
    pub step: usize,
    /// Extra indentation of block sequence entries under their key (0 for `key:\n- a`).
    pub seq_indent: usize,
    /// The document is JSON: write JSON.
    pub json: bool,
    pub newline: &'static str,
}

/// A value that fits on one line in any context: scalars and empty collections.
pub(crate) fn inline(value: &Value, json: bool) -> Option<String> {
    if json {
        return match value {
            Value::Object(m) if !m.is_empty() => None,
            Value::Array(a) if !a.is_empty() => None,
            other => Some(other.to_string()),
        };
    }
    Some(match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        _ => return None,
    })
}

/// A string as a plain scalar when that is safe and decodes to the same string (so `yes`,
/// `on`, `0755`, `1.0` and `null` are quoted), else as a double-quoted scalar.
pub(crate) fn string(s: &str) -> String {
    if plain_is_safe(s) {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-/+=@%~".contains(c);
    if !(first.is_ascii_alphanumeric() || first == '/') || !s.chars().all(allowed) {
        return false;
    }
    matches!(
        decode_first_document(s, &Limits::default()),
        Ok(Some(Value::String(decoded))) if decoded == s
    )
}

/// A mapping key.
pub(crate) fn key(k: &str, json: bool) -> String {
    if json {
        Value::String(k.to_owned()).to_string()
    } else {
        string(k)
    }
}

/// A value in flow style on one line (compact JSON for JSON documents).
pub(crate) fn flow(value: &Value, json: bool) -> String {
    if let Some(s) = inline(value, json) {
        return s;
    }
    if json {
        return value.to_string();
    }
    match value {
        Value::Object(m) => {
            let entries: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", key(k, false), flow(v, false)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| flow(v, false)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => String::new(),
    }
}

/// A JSON value laid out on several lines, its inner lines indented from column `indent`.
pub(crate) fn pretty_json(value: &Value, indent: usize, style: &Style) -> String {
    use serde::Serialize;
    let step = " ".repeat(style.step);
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(step.as_bytes());
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    if value.serialize(&mut serializer).is_err() {
        return value.to_string();
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    let pad = format!("{}{}", style.newline, " ".repeat(indent));
    text.replace('\n', &pad)
}

/// A non-empty collection in block style: lines indented `indent` spaces, joined by newlines,
/// without a final newline.
pub(crate) fn block(value: &Value, indent: usize, style: &Style) -> String {
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                lines.push(format!("{pad}{}:{}", key(k, false), tail(v, indent, style)));
            }
        }
        Value::Array(items) => {
            for item in items {
                let body = match item {
                    Value::Object(m) if !m.is_empty() => {
                        block(item, indent + 2, style)[indent + 2..].to_owned()
                    }
                    other => flow(other, false),
                };
                lines.push(format!("{pad}- {body}"));
            }
        }
        other => lines.push(format!("{pad}{}", flow(other, false))),
    }
    lines.join(style.newline)
}

/// What follows `key:` for a value whose key is indented `indent` spaces.
pub(crate) fn tail(value: &Value, indent: usize, style: &Style) -> String {
    match inline(value, false) {
        Some(s) => format!(" {s}"),
        None => {
            let inner = match value {
                Value::Array(_) => indent + style.seq_indent,
                _ => indent + style.step,
            };
            format!("{}{}", style.newline, block(value, inner, style))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const STYLE: Style = Style {
        step: 2,
        seq_indent: 0,
        json: false,
        newline: "\n",
    };

    #[test]
    fn quotes_yaml_1_1_look_alikes() {
        for s in [
            "yes", "on", "No", "y", "0755", "1.0", "1_000", "0x1F", "null", "1e3", "",
        ] {
            assert_eq!(string(s), format!("\"{s}\""), "{s}");
        }
        for s in [
            "ALL",
            "RuntimeDefault",
            "500m",
            "128Mi",
            "runtime/default",
            "a.b-c",
        ] {
            assert_eq!(string(s), s);
        }
        assert_eq!(string("a: b"), "\"a: b\"");
        assert_eq!(string("line\nbreak"), "\"line\\nbreak\"");
    }

    #[test]
    fn renders_blocks() {
        let v = json!({"limits": {"cpu": "500m", "memory": "128Mi"}, "drop": ["ALL"], "e": {}});
        assert_eq!(
            block(&v, 2, &STYLE),
            "  limits:\n    cpu: 500m\n    memory: 128Mi\n  drop:\n  - ALL\n  e: {}"
        );
        let items = json!([{"name": "a", "value": "on"}, 1, [true]]);
        assert_eq!(
            block(&items, 0, &STYLE),
            "- name: a\n  value: \"on\"\n- 1\n- [true]"
        );
        assert_eq!(flow(&json!({"a": [1, "yes"]}), false), "{a: [1, \"yes\"]}");
    }
}
