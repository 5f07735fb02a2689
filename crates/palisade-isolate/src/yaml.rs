//! Block YAML for the plan: what `kubectl get -o yaml` prints, for JSON values. A string that
//! a YAML 1.1 reader would take for something else (a number, a boolean, `null`, text with
//! `: ` or ` #`) is double-quoted, in JSON's syntax, which YAML reads back as the same string.

use serde_json::Value;

/// The value as a YAML document (without `---`), ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => write_list(items, 0, &mut out),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, level: usize) {
    out.extend(std::iter::repeat_n(' ', level));
}

fn write_map(map: &serde_json::Map<String, Value>, level: usize, out: &mut String) {
    for (key, value) in map {
        indent(out, level);
        out.push_str(&string(key));
        out.push(':');
        write_child(value, level, out);
    }
}

fn write_list(items: &[Value], level: usize, out: &mut String) {
    for item in items {
        indent(out, level);
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key on the dash's line, the others aligned under it.
                let mut text = String::new();
                write_map(map, level + 2, &mut text);
                out.push(' ');
                out.push_str(&text[level + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(inner, level + 2, out);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn write_child(value: &Value, level: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(map, level + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_list(items, level, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

/// Whether a plain scalar reads back as this same string.
fn plain(s: &str) -> bool {
    const SPECIAL: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    if SPECIAL.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    // Text that starts with a digit may read as a number, a date or a time: quoted.
    (first.is_ascii_alphabetic() || matches!(first, '/' | '_'))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _./:-@()=+,".contains(c))
}

fn string(s: &str) -> String {
    if plain(s) {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_yaml_reads_back_as_the_same_value() {
        let value = json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "q", "labels": {"a": "true", "b": "0123", "c": "x: y"}},
            "spec": {
                "podSelector": {"matchLabels": {"palisade.dev/quarantine": "inc-1"}},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [],
                "ports": [{"port": 80, "protocol": "TCP"}, {"port": 443}],
                "nested": [[1, 2], {}],
                "empty": "",
            },
        });
        let text = to_yaml(&value);
        assert!(
            text.contains("  policyTypes:\n  - Ingress\n  - Egress\n"),
            "{text}"
        );
        assert!(text.contains("  - port: 80\n    protocol: TCP\n"), "{text}");
        let loaded = palisade_core::load_str(&text, "plan", &palisade_core::Limits::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert_eq!(loaded.objects[0].value, value, "{text}");
    }
}
