//! Reading YAML source text around a known position: lines, indentation, token ends and the
//! extent of block nodes. The loader gives where each node starts; these helpers find where it
//! ends.

use palisade_core::Pos;

/// A source text with its line index.
pub(crate) struct Text<'a> {
    pub s: &'a str,
    /// Byte offset of the start of every line.
    starts: Vec<usize>,
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(s.match_indices('\n').map(|(i, _)| i + 1));
        Text { s, starts }
    }

    /// Byte offset of a 1-based line and character column.
    pub fn offset(&self, pos: Pos) -> Option<usize> {
        let index = (pos.line as usize).checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let col = (pos.col as usize).checked_sub(1)?;
        let line = &self.s[start..self.line_end(index)];
        match line.char_indices().nth(col) {
            Some((i, _)) => Some(start + i),
            None if line.chars().count() == col => Some(start + line.len()),
            None => None,
        }
    }

    pub fn lines(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line holding byte `at`.
    pub fn line_of(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at) - 1
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.s.len())
    }

    /// Byte offset of the end of a line's content (before `\r\n` or `\n`).
    pub fn line_end(&self, line: usize) -> usize {
        let end = match self.starts.get(line + 1) {
            Some(next) => next - 1,
            None => self.s.len(),
        };
        let start = self.line_start(line);
        if end > start && self.s.as_bytes()[end - 1] == b'\r' {
            end - 1
        } else {
            end
        }
    }

    /// Byte offset just past a line's newline (or the end of the text).
    pub fn next_line_start(&self, line: usize) -> usize {
        self.line_start(line + 1)
    }

    pub fn line(&self, line: usize) -> &'a str {
        &self.s[self.line_start(line)..self.line_end(line)]
    }

    /// Number of leading spaces of a line.
    pub fn indent(&self, line: usize) -> usize {
        self.line(line).bytes().take_while(|&b| b == b' ').count()
    }

    /// Whether a line holds nothing but spaces and perhaps a comment.
    pub fn is_blank(&self, line: usize) -> bool {
        let t = self.line(line).trim_start_matches([' ', '\t']);
        t.is_empty() || t.starts_with('#')
    }

    fn is_document_marker(&self, line: usize) -> bool {
        let l = self.line(line);
        (l.starts_with("---") || l.starts_with("..."))
            && matches!(l.as_bytes().get(3), None | Some(b' ' | b'\t'))
    }

    /// Character column (0-based) of a byte offset.
    pub fn col(&self, at: usize) -> usize {
        self.s[self.line_start(self.line_of(at))..at]
            .chars()
            .count()
    }

    /// Whether only spaces precede byte `at` on its line.
    pub fn first_on_line(&self, at: usize) -> bool {
        self.s[self.line_start(self.line_of(at))..at]
            .bytes()
            .all(|b| b == b' ')
    }

    /// The last content line of a block node that starts on `first`: following lines belong
    /// to it while they are blank, indented at least `min_indent`, or, when `dash` is given,
    /// sequence entries (`- `) indented exactly `dash`. Trailing blank lines, and comments
    /// less indented than `min_indent`, are left out.
    pub fn block_end(&self, first: usize, min_indent: usize, dash: Option<usize>) -> usize {
        let mut last = first;
        for line in first + 1..self.lines() {
            if self.is_document_marker(line) {
                break;
            }
            let indent = self.indent(line);
            // Blank lines, and comments less indented than the node, may stand inside it
            // but do not end it; more indented comment lines may be block scalar text.
            let text = self.line(line).trim_start_matches([' ', '\t']);
            if text.is_empty() || (text.starts_with('#') && indent < min_indent) {
                continue;
            }
            let rest = &self.line(line)[indent..];
            let is_dash = rest == "-" || rest.starts_with("- ");
            if indent >= min_indent || (dash == Some(indent) && is_dash) {
                last = line;
            } else {
                break;
            }
        }
        last
    }

    /// Skips anchors (`&a`) and tags (`!t`) and the spaces after them; with `newlines`, also
    /// line breaks, blank lines and comments (to reach a block node's first token).
    pub fn skip_props(&self, mut at: usize, newlines: bool) -> usize {
        let b = self.s.as_bytes();
        loop {
            while at < b.len() && matches!(b[at], b' ' | b'\t') {
                at += 1;
            }
            match b.get(at) {
                Some(b'&' | b'!') => {
                    while at < b.len() && !matches!(b[at], b' ' | b'\t' | b'\r' | b'\n') {
                        at += 1;
                    }
                }
                Some(b'#') if newlines => at = self.line_end(self.line_of(at)),
                Some(b'\r' | b'\n') if newlines => at = self.next_line_start(self.line_of(at)),
                _ => return at,
            }
        }
    }

    /// Skips spaces, tabs, line breaks and comments.
    pub fn skip_blank(&self, mut at: usize) -> usize {
        let b = self.s.as_bytes();
        while let Some(&c) = b.get(at) {
            match c {
                b' ' | b'\t' => at += 1,
                b'#' => at = self.line_end(self.line_of(at)),
                b'\r' | b'\n' => at = self.next_line_start(self.line_of(at)),
                _ => break,
            }
        }
        at
    }

    /// The last byte before `at` that is not a space, tab or line break.
    pub fn last_content_before(&self, at: usize) -> usize {
        let b = self.s.as_bytes();
        let mut i = at;
        while i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\r' | b'\n') {
            i -= 1;
        }
        i.saturating_sub(1)
    }

    /// The `-` of the block sequence entry whose node starts at `at`, when it is on the same
    /// line.
    pub fn dash_before(&self, at: usize) -> Option<usize> {
        let start = self.line_start(self.line_of(at));
        let before = self.s[start..at].trim_end_matches(' ');
        before.ends_with('-').then(|| start + before.len() - 1)
    }

    /// The `-` of the block sequence entry whose value starts at `at`: on the same line, or,
    /// for a block scalar (located at its first content line), ending the line above.
    pub fn dash_of_item(&self, at: usize) -> Option<usize> {
        if let Some(dash) = self.dash_before(at) {
            return Some(dash);
        }
        let line = self.line_of(at).checked_sub(1)?;
        let header = self.line(line);
        let body = header.trim_start_matches(' ');
        let indicator = body
            .strip_prefix('-')?
            .trim_start_matches(' ')
            .chars()
            .next();
        matches!(indicator, Some('|' | '>'))
            .then(|| self.line_start(line) + header.len() - body.len())
    }

    /// Skips spaces and tabs.
    pub fn skip_spaces(&self, mut at: usize) -> usize {
        let b = self.s.as_bytes();
        while at < b.len() && matches!(b[at], b' ' | b'\t') {
            at += 1;
        }
        at
    }

    /// End (exclusive) of a quoted scalar starting at `at` (on its quote).
    pub fn quoted_end(&self, at: usize) -> Option<usize> {
        let b = self.s.as_bytes();
        let quote = b[at];
        let mut i = at + 1;
        while i < b.len() {
            match b[i] {
                b'\\' if quote == b'"' => i += 2,
                c if c == quote => {
                    if quote == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                    } else {
                        return Some(i + 1);
                    }
                }
                _ => i += 1,
            }
        }
        None
    }

    /// End (exclusive) of a flow collection starting at `at` (on `{` or `[`).
    pub fn collection_end(&self, at: usize) -> Option<usize> {
        let b = self.s.as_bytes();
        let mut depth = 0usize;
        let mut i = at;
        while i < b.len() {
            match b[i] {
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b'"' | b'\'' if self.starts_token(i) => {
                    i = self.quoted_end(i)?;
                    continue;
                }
                b'#' if i > 0 && matches!(b[i - 1], b' ' | b'\t' | b'\n') => {
                    i = self.line_end(self.line_of(i));
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
        None
    }

    /// Whether a quote at `at` opens a quoted scalar (and is not inside a plain one).
    fn starts_token(&self, at: usize) -> bool {
        at == 0
            || matches!(
                self.s.as_bytes()[at - 1],
                b' ' | b'\t' | b'\n' | b'\r' | b'{' | b'[' | b',' | b':' | b'?'
            )
    }

    /// End (exclusive) of a node written in flow style (or a single-line plain scalar, alias
    /// or quoted scalar) that starts at `at`, inside a flow collection when `flow`.
    pub fn flow_node_end(&self, at: usize, flow: bool) -> Option<usize> {
        let b = self.s.as_bytes();
        match b.get(at) {
            Some(b'{' | b'[') => self.collection_end(at),
            Some(b'"' | b'\'') => self.quoted_end(at),
            _ => {
                let mut i = at;
                while i < b.len() {
                    let c = b[i];
                    let next = b.get(i + 1).copied();
                    let ends = match c {
                        b'\n' | b'\r' => true,
                        b'#' => i > at && matches!(b[i - 1], b' ' | b'\t'),
                        b',' | b']' | b'}' => flow,
                        b':' => {
                            matches!(next, None | Some(b' ' | b'\t' | b'\n' | b'\r'))
                                || (flow && matches!(next, Some(b',' | b']' | b'}')))
                        }
                        _ => false,
                    };
                    if ends {
                        break;
                    }
                    i += 1;
                }
                let token = self.s[at..i].trim_end_matches([' ', '\t']);
                Some(at + token.len())
            }
        }
    }

    /// Byte offset of the `:` that ends the mapping key starting at `key`.
    pub fn colon_after_key(&self, key: usize, flow: bool) -> Option<usize> {
        let end = match self.s.as_bytes().get(key)? {
            b'"' | b'\'' => self.quoted_end(key)?,
            _ => self.flow_node_end(key, flow)?,
        };
        let at = self.skip_spaces(end);
        (self.s.as_bytes().get(at) == Some(&b':')).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_count_characters() {
        let t = Text::new("a: é\nb: c\n");
        assert_eq!(t.offset(Pos::new(1, 4)), Some(3));
        assert_eq!(t.offset(Pos::new(2, 4)), Some(9));
        assert_eq!(t.offset(Pos::new(1, 9)), None);
        assert_eq!(t.line_of(9), 1);
        assert_eq!(t.col(9), 3);
    }

    #[test]
    fn finds_token_ends() {
        let t = Text::new("k: {a: [1, 2], 'b''': \"x\\\"\"} # c\n");
        assert_eq!(t.flow_node_end(3, false), Some(28));
        assert_eq!(t.colon_after_key(0, false), Some(1));
        assert_eq!(t.colon_after_key(15, true), Some(20));
        let plain = Text::new("k: some value # c\n");
        assert_eq!(plain.flow_node_end(3, false), Some(13));
    }

    #[test]
    fn block_end_stops_at_outdent_and_skips_trailing_comments() {
        let t = Text::new("a:\n  b: 1\n\n  c:\n  - x\n# note\nd: 2\n");
        assert_eq!(t.block_end(0, 1, Some(0)), 4);
        assert_eq!(t.block_end(3, 3, Some(2)), 4);
        assert_eq!(t.block_end(0, 0, None), 6);
    }
}
