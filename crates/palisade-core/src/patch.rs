//! JSON Patch (RFC 6902) operations: what `palisade fix` writes and a mutating webhook returns.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::pointer::{self, At};

/// One JSON Patch operation. Only the operations fixes need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOp {
    Add { path: String, value: Value },
    Replace { path: String, value: Value },
    Remove { path: String },
}

impl PatchOp {
    pub fn path(&self) -> &str {
        match self {
            PatchOp::Add { path, .. }
            | PatchOp::Replace { path, .. }
            | PatchOp::Remove { path } => path,
        }
    }
}

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply patch at {path}: {reason}")]
pub struct PatchError {
    pub path: String,
    pub reason: &'static str,
}

/// Sets `value` at `path`, creating missing parent mappings, as an `add` operation would after
/// its parents were added. Returns the operations that do it on the current document: `add` of
/// the first missing ancestor (with the rest nested inside), or `replace`/`add` of the field.
pub fn set_ops(document: &Value, path: &str, value: Value) -> Vec<PatchOp> {
    let tokens: Vec<String> = pointer::tokens(path).map(|t| t.into_owned()).collect();
    let mut current = document;
    for (depth, token) in tokens.iter().enumerate() {
        let next = match current {
            Value::Object(map) => map.get(token.as_str()),
            Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(child) if depth + 1 == tokens.len() => {
                let _ = child;
                return vec![PatchOp::Replace {
                    path: path.to_owned(),
                    value,
                }];
            }
            Some(child) if child.is_object() || child.is_array() => current = child,
            Some(_) => {
                // A scalar (often null) stands where a mapping is needed: replace it.
                let prefix = join(&tokens[..=depth]);
                return vec![PatchOp::Replace {
                    path: prefix,
                    value: nest(&tokens[depth + 1..], value),
                }];
            }
            None => {
                if !current.is_object() {
                    return Vec::new();
                }
                let prefix = join(&tokens[..=depth]);
                return vec![PatchOp::Add {
                    path: prefix,
                    value: nest(&tokens[depth + 1..], value),
                }];
            }
        }
    }
    Vec::new()
}

fn join(tokens: &[String]) -> String {
    tokens
        .iter()
        .fold(String::new(), |acc, t| pointer::push(&acc, t))
}

fn nest(tokens: &[String], value: Value) -> Value {
    tokens.iter().rev().fold(value, |inner, token| {
        let mut map = serde_json::Map::new();
        map.insert(token.clone(), inner);
        Value::Object(map)
    })
}

/// Applies operations in order to `document`.
pub fn apply(document: &mut Value, ops: &[PatchOp]) -> Result<(), PatchError> {
    for op in ops {
        let path = op.path();
        let err = |reason| PatchError {
            path: path.to_owned(),
            reason,
        };
        let (parent_path, last) = match path.rfind('/') {
            Some(i) => (&path[..i], pointer::unescape(&path[i + 1..]).into_owned()),
            None => return Err(err("the root cannot be patched")),
        };
        let parent = document
            .pointer_mut(parent_path)
            .ok_or_else(|| err("parent does not exist"))?;
        match (op, parent) {
            (PatchOp::Add { value, .. }, Value::Object(map)) => {
                map.insert(last, value.clone());
            }
            (PatchOp::Add { value, .. }, Value::Array(items)) => {
                if last == "-" {
                    items.push(value.clone());
                } else {
                    let index: usize = last.parse().map_err(|_| err("bad array index"))?;
                    if index > items.len() {
                        return Err(err("array index out of range"));
                    }
                    items.insert(index, value.clone());
                }
            }
            (PatchOp::Replace { value, .. }, parent) => {
                let slot = match parent {
                    Value::Object(map) => map.get_mut(&last),
                    Value::Array(items) => {
                        last.parse::<usize>().ok().and_then(|i| items.get_mut(i))
                    }
                    _ => None,
                }
                .ok_or_else(|| err("field does not exist"))?;
                *slot = value.clone();
            }
            (PatchOp::Remove { .. }, Value::Object(map)) => {
                map.shift_remove(&last)
                    .ok_or_else(|| err("field does not exist"))?;
            }
            (PatchOp::Remove { .. }, Value::Array(items)) => {
                let index: usize = last.parse().map_err(|_| err("bad array index"))?;
                if index >= items.len() {
                    return Err(err("array index out of range"));
                }
                items.remove(index);
            }
            _ => return Err(err("parent is not a mapping or list")),
        }
    }
    Ok(())
}

/// Applies `op` to `value` as one of several fixes applied in turn to `original` (which the
/// earlier ones turned into `value`), and pushes to `out` the operations that do it on `value`:
/// none when it changes nothing.
///
/// Fixes set a field below a scalar (often an empty `securityContext:`) by replacing the
/// scalar with a mapping, or add a mapping that is missing; when an earlier fix already put a
/// mapping there, such an operation adds its entries to that mapping, each as an `add` of its
/// own, so that every fix keeps its effect.
pub fn apply_merging(
    value: &mut Value,
    original: &Value,
    op: &PatchOp,
    out: &mut Vec<PatchOp>,
) -> Result<(), PatchError> {
    let current = value.at(op.path());
    let merges = |path: &str| {
        matches!(current, Some(Value::Object(_)))
            && pointer::parent(path)
                .and_then(|p| value.at(p))
                .is_some_and(Value::is_object)
    };
    match op {
        PatchOp::Add { value: new, .. } | PatchOp::Replace { value: new, .. }
            if current == Some(new) =>
        {
            return Ok(())
        }
        PatchOp::Add {
            path,
            value: Value::Object(entries),
        } if merges(path) => return merge(value, original, path, entries, out),
        PatchOp::Replace {
            path,
            value: Value::Object(entries),
        } if merges(path) && !original.at(path).is_some_and(Value::is_object) => {
            return merge(value, original, path, entries, out)
        }
        PatchOp::Remove { .. } if current.is_none() => return Ok(()),
        _ => {}
    }
    apply(value, std::slice::from_ref(op))?;
    out.push(op.clone());
    Ok(())
}

/// Adds `entries` to the mapping at `path`, each as an `add` of its own.
fn merge(
    value: &mut Value,
    original: &Value,
    path: &str,
    entries: &serde_json::Map<String, Value>,
    out: &mut Vec<PatchOp>,
) -> Result<(), PatchError> {
    for (k, v) in entries {
        let inner = PatchOp::Add {
            path: pointer::push(path, k),
            value: v.clone(),
        };
        apply_merging(value, original, &inner, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_creates_missing_parents() {
        let doc = json!({"spec": {"containers": [{"name": "a"}]}});
        let ops = set_ops(
            &doc,
            "/spec/containers/0/securityContext/allowPrivilegeEscalation",
            json!(false),
        );
        assert_eq!(
            ops,
            vec![PatchOp::Add {
                path: "/spec/containers/0/securityContext".into(),
                value: json!({"allowPrivilegeEscalation": false})
            }]
        );
        let mut patched = doc.clone();
        apply(&mut patched, &ops).unwrap();
        assert_eq!(
            patched.pointer("/spec/containers/0/securityContext/allowPrivilegeEscalation"),
            Some(&json!(false))
        );
    }

    #[test]
    fn set_replaces_existing_and_null() {
        let doc = json!({"a": {"b": true}, "c": null});
        assert_eq!(
            set_ops(&doc, "/a/b", json!(false)),
            vec![PatchOp::Replace {
                path: "/a/b".into(),
                value: json!(false)
            }]
        );
        assert_eq!(
            set_ops(&doc, "/c/d", json!(1)),
            vec![PatchOp::Replace {
                path: "/c".into(),
                value: json!({"d": 1})
            }]
        );
    }

    #[test]
    fn merging_keeps_every_fix_that_adds_the_same_mapping() {
        let original = json!({"c": {"name": "a"}, "d": null});
        let mut value = original.clone();
        let mut out = Vec::new();
        for op in [
            PatchOp::Add {
                path: "/c/sc".into(),
                value: json!({"x": 1}),
            },
            PatchOp::Add {
                path: "/c/sc".into(),
                value: json!({"y": 2}),
            },
            PatchOp::Replace {
                path: "/d".into(),
                value: json!({"x": 1}),
            },
            PatchOp::Replace {
                path: "/d".into(),
                value: json!({"y": 2}),
            },
            PatchOp::Replace {
                path: "/d/y".into(),
                value: json!(2),
            },
        ] {
            apply_merging(&mut value, &original, &op, &mut out).unwrap();
        }
        assert_eq!(
            value,
            json!({"c": {"name": "a", "sc": {"x": 1, "y": 2}}, "d": {"x": 1, "y": 2}})
        );
        // The operations it returns give the same result on the original, in order; the
        // last one changed nothing and is left out.
        assert_eq!(out.len(), 4);
        let mut replayed = original.clone();
        apply(&mut replayed, &out).unwrap();
        assert_eq!(replayed, value);
    }

    #[test]
    fn apply_reports_missing_parents() {
        let mut doc = json!({});
        let err = apply(
            &mut doc,
            &[PatchOp::Remove {
                path: "/x/y".into(),
            }],
        )
        .unwrap_err();
        assert_eq!(err.reason, "parent does not exist");
    }
}
