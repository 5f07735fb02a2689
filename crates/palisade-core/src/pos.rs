use serde::Serialize;

/// A position in a source file: 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub const fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// Source positions of one value and, recursively, of its children.
///
/// The tree mirrors the [`serde_json::Value`] it was built with: for an array, `children[i]` is
/// element `i`; for an object, `children[i]` is the entry at index `i` of the (insertion-ordered)
/// map. `key` is the position of the mapping key that holds the value (equal to `value` for
/// array elements and document roots).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpanNode {
    pub key: Pos,
    pub value: Pos,
    pub children: Vec<SpanNode>,
}

impl SpanNode {
    pub fn leaf(key: Pos, value: Pos) -> Self {
        SpanNode {
            key,
            value,
            children: Vec::new(),
        }
    }
}
