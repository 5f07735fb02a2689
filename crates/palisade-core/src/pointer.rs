//! JSON Pointer (RFC 6901) helpers.

use serde_json::{Map, Value};

/// Looking up a value by JSON Pointer, like [`Value::pointer`] but without allocating: tokens
/// are unescaped only when they contain `~`.
pub trait At {
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl At for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        if !pointer.starts_with('/') {
            return None;
        }
        tokens(pointer).try_fold(self, |value, token| match value {
            Value::Object(map) => member(map, &token),
            Value::Array(items) => index(&token).and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// The member `key` of a mapping, as `map.get(key)` finds it. A small mapping is searched in
/// order: comparing a few short keys costs less than hashing the key, and most mappings of a
/// manifest are small (an object starts with `apiVersion`, `kind` and `metadata`).
pub fn member<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    if map.len() <= 8 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// An array index token: digits without a leading zero (RFC 6901).
fn index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn escape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

/// Unescapes one reference token.
pub fn unescape(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

/// Appends a token to a pointer.
pub fn push(pointer: &str, token: &str) -> String {
    let token = escape(token);
    let mut out = String::with_capacity(pointer.len() + 1 + token.len());
    out.push_str(pointer);
    out.push('/');
    out.push_str(&token);
    out
}

/// Appends an array index to a pointer.
pub fn push_index(pointer: &str, index: usize) -> String {
    format!("{pointer}/{index}")
}

/// Splits a pointer into unescaped tokens. The empty pointer has no tokens.
pub fn tokens(pointer: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    pointer.split('/').skip(1).map(unescape)
}

/// The pointer of the parent, or `None` for the root.
pub fn parent(pointer: &str) -> Option<&str> {
    pointer.rfind('/').map(|i| &pointer[..i])
}

/// Renders a pointer as a dotted field path, e.g. `/spec/containers/0/image` →
/// `spec.containers[0].image`.
pub fn to_field_path(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for token in tokens(pointer) {
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(unescape("a~1b~0c"), "a/b~c");
        assert_eq!(
            push("/metadata/annotations", "x/y"),
            "/metadata/annotations/x~1y"
        );
        let t: Vec<_> = tokens("/a/b~1c/0").collect();
        assert_eq!(t, vec!["a", "b/c", "0"]);
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent(""), None);
        assert_eq!(
            to_field_path("/spec/containers/0/image"),
            "spec.containers[0].image"
        );
    }

    #[test]
    fn at_agrees_with_serde_json_pointer() {
        let value = serde_json::json!({"a": {"b/c": [1, {"~d": 2}], "": 3}, "0": 4});
        for pointer in [
            "",
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/~0d",
            "/a/",
            "/0",
            "/a/b~1c/01",
            "/a/b~1c/-",
            "/a/b~1c/+1",
            "/a/b~1c/2",
            "/x",
            "a",
            "/a/b~1c/0/z",
        ] {
            assert_eq!(value.at(pointer), value.pointer(pointer), "{pointer:?}");
        }
        assert_eq!(value.at("/a/b~1c/1/~0d"), Some(&serde_json::json!(2)));
    }

    /// Searched in order or hashed, a member is the one `Map::get` finds, in mappings on both
    /// sides of the size where the search changes.
    #[test]
    fn member_is_what_get_finds() {
        for size in 0..12 {
            let map: Map<String, Value> = (0..size)
                .map(|i| (format!("k{i}"), Value::from(i)))
                .collect();
            for key in (0..size + 2).map(|i| format!("k{i}")).chain(["".into()]) {
                assert_eq!(member(&map, &key), map.get(&key), "{size} {key}");
            }
        }
    }
}
