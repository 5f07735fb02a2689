//! JSON Pointer (RFC 6901) helpers.

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
}
