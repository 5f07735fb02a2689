//! Message formatting shared by the checks, matching admission's wording helpers.

/// `"a", "b"` — each item wrapped in double quotes without escaping, joined by `, `.
pub(crate) fn join_quote<I, S>(items: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(item.as_ref());
        out.push('"');
    }
    out
}

pub(crate) fn plural(singular: &'static str, plural: &'static str, n: usize) -> &'static str {
    if n == 1 {
        singular
    } else {
        plural
    }
}

/// `container "a"` / `containers "a", "b"`.
pub(crate) fn containers_phrase<S: AsRef<str>>(names: &[S]) -> String {
    format!(
        "{} {}",
        plural("container", "containers", names.len()),
        join_quote(names)
    )
}

/// A double-quoted string with the escapes admission's messages use for annotation values:
/// backslash escapes for `"` and `\` and the C control escapes, `\xNN` for other ASCII
/// controls, `\uNNNN` / `\UNNNNNNNN` for other non-printable characters.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Letters, marks, numbers, punctuation, symbols and the ASCII space: everything except
/// controls, separators other than ' ', format characters and private-use characters.
fn printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0xAD
        | 0x600..=0x605
        | 0x61C
        | 0x6DD
        | 0x70F
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x2064
        | 0x2066..=0x206F
        | 0xD800..=0xF8FF
        | 0xFEFF
        | 0xFFF9..=0xFFFB
        | 0xF0000..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_pluralizes() {
        assert_eq!(join_quote(["a", "b"]), r#""a", "b""#);
        assert_eq!(join_quote(Vec::<String>::new()), "");
        assert_eq!(containers_phrase(&["x"]), r#"container "x""#);
        assert_eq!(containers_phrase(&["x", "y"]), r#"containers "x", "y""#);
    }

    #[test]
    fn quotes_like_admission() {
        assert_eq!(quote("unconfined"), r#""unconfined""#);
        assert_eq!(quote(""), r#""""#);
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("x\ny\t\u{1}\u{7f}"), r#""x\ny\t\x01\x7f""#);
        assert_eq!(quote("é日本"), "\"é日本\"");
        assert_eq!(quote("\u{a0}\u{200b}"), r#""\u00a0\u200b""#);
        assert_eq!(quote("\u{f0000}"), r#""\U000f0000""#);
    }
}
