//! Turning one JSON Patch operation into text edits on the object's source.

use palisade_core::patch::PatchOp;
use palisade_core::{pointer, Object, SpanNode};
use serde_json::Value;

use crate::render::{self, Style};
use crate::text::Text;

/// Replace the bytes `start..end` with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// A node on the path of an operation.
struct Node<'v> {
    value: &'v Value,
    span: &'v SpanNode,
    /// Byte offset of the node's first token (past anchors and tags).
    content: usize,
    /// The node is written in flow style, or sits inside a flow collection.
    flow: bool,
    /// The node is a block collection located at its first entry (a list not indented under
    /// its key is located at its first item's value, past the `-`).
    at_first_entry: bool,
}

/// Text edits that perform `op` on `object`, whose source is `text`.
pub(crate) fn edits(
    text: &Text,
    object: &Object,
    op: &PatchOp,
    style: &Style,
) -> Result<Vec<Edit>, String> {
    let path = op.path();
    let tokens: Vec<String> = pointer::tokens(path).map(|t| t.into_owned()).collect();
    let Some((last, parents)) = tokens.split_last() else {
        return Err("the whole object cannot be replaced".to_owned());
    };
    let parent = walk(text, object, parents)?;
    let cx = Cx { text, style };
    match (&op, parent.value) {
        (PatchOp::Remove { .. }, Value::Object(map)) => {
            let index = map
                .keys()
                .position(|k| k == last)
                .ok_or("the field does not exist")?;
            if map.len() == 1 {
                return emptied(
                    text,
                    object,
                    parents,
                    Value::Object(Default::default()),
                    style,
                );
            }
            cx.remove_entry(&parent, index)
        }
        (PatchOp::Remove { .. }, Value::Array(items)) => {
            let index = array_index(last, items.len())?;
            if items.len() == 1 {
                return emptied(text, object, parents, Value::Array(Vec::new()), style);
            }
            cx.remove_item(&parent, index)
        }
        (PatchOp::Add { value, .. } | PatchOp::Replace { value, .. }, Value::Object(map)) => {
            match map.keys().position(|k| k == last) {
                Some(index) => cx.replace_entry(&parent, index, value),
                None if matches!(op, PatchOp::Add { .. }) => cx.insert_entry(&parent, last, value),
                None => Err("the field does not exist".to_owned()),
            }
        }
        (PatchOp::Replace { value, .. }, Value::Array(items)) => {
            let index = array_index(last, items.len())?;
            cx.replace_item(&parent, index, value)
        }
        (PatchOp::Add { value, .. }, Value::Array(items)) => {
            let index = if last == "-" {
                items.len()
            } else {
                array_index(last, items.len() + 1)?
            };
            cx.insert_item(&parent, index, value)
        }
        _ => Err("the parent is not a mapping or a list".to_owned()),
    }
}

/// Removing the last entry of a collection: write the parent as an empty one.
fn emptied(
    text: &Text,
    object: &Object,
    parents: &[String],
    empty: Value,
    style: &Style,
) -> Result<Vec<Edit>, String> {
    if parents.is_empty() {
        return Err("the object would become empty".to_owned());
    }
    let path = parents
        .iter()
        .fold(String::new(), |acc, t| pointer::push(&acc, t));
    edits(
        text,
        object,
        &PatchOp::Replace { path, value: empty },
        style,
    )
}

fn array_index(token: &str, len: usize) -> Result<usize, String> {
    token
        .parse::<usize>()
        .ok()
        .filter(|&i| i < len)
        .ok_or_else(|| format!("bad list index {token:?}"))
}

/// Follows `tokens` from the object's root, locating each node in the text.
fn walk<'v>(text: &Text, object: &'v Object, tokens: &[String]) -> Result<Node<'v>, String> {
    let mut node = locate(text, &object.value, &object.spans, false)?;
    for token in tokens {
        let (value, span) = match node.value {
            Value::Object(map) => map
                .iter()
                .enumerate()
                .find(|(_, (k, _))| *k == token)
                .and_then(|(i, (_, v))| Some((v, node.span.children.get(i)?))),
            Value::Array(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|i| Some((items.get(i)?, node.span.children.get(i)?))),
            _ => None,
        }
        .ok_or_else(|| format!("no field {token:?} in the source"))?;
        node = locate(text, value, span, node.flow)?;
    }
    Ok(node)
}

fn locate<'v>(
    text: &Text,
    value: &'v Value,
    span: &'v SpanNode,
    in_flow: bool,
) -> Result<Node<'v>, String> {
    let start = text
        .offset(span.value)
        .ok_or("a position is outside the file")?;
    let content = if value.is_object() || value.is_array() {
        text.skip_props(start, true)
    } else {
        start
    };
    let first = text.s.as_bytes().get(content).copied();
    // A block collection is located at its first entry (an indentless list at its first
    // item's value), which may itself be a flow collection.
    let first_child = span.children.first().map(|c| match value {
        Value::Object(_) => c.key,
        _ => c.value,
    });
    let block = first_child == Some(span.value);
    if first == Some(b'*') && (value.is_object() || value.is_array()) {
        return Err("the value is an alias of an anchor; fix it by hand".to_owned());
    }
    Ok(Node {
        value,
        span,
        content,
        flow: in_flow || (!block && matches!(first, Some(b'{' | b'['))),
        at_first_entry: block,
    })
}

struct Cx<'t, 's> {
    text: &'t Text<'s>,
    style: &'t Style,
}

impl Cx<'_, '_> {
    fn pad(&self, n: usize) -> String {
        " ".repeat(n)
    }

    fn offset(&self, pos: palisade_core::Pos) -> Result<usize, String> {
        self.text
            .offset(pos)
            .ok_or_else(|| "a position is outside the file".to_owned())
    }

    fn child<'n>(&self, parent: &'n Node<'_>, index: usize) -> Result<&'n SpanNode, String> {
        parent
            .span
            .children
            .get(index)
            .ok_or_else(|| "the source positions are incomplete".to_owned())
    }

    /// The `:` after the key of entry `index`, and the key's byte offset.
    fn key_colon(&self, parent: &Node<'_>, index: usize) -> Result<(usize, usize), String> {
        let key = self.offset(self.child(parent, index)?.key)?;
        let colon = self
            .text
            .colon_after_key(key, parent.flow)
            .ok_or("cannot find the `:` after the key")?;
        Ok((key, colon))
    }

    /// A value to write inside a flow collection whose entries start at column `indent`.
    fn flow_value(&self, value: &Value, indent: usize) -> String {
        match render::inline(value, self.style.json) {
            Some(s) => s,
            None if self.style.json => render::pretty_json(value, indent, self.style),
            None => render::flow(value, false),
        }
    }

    fn replace_entry(
        &self,
        parent: &Node<'_>,
        index: usize,
        value: &Value,
    ) -> Result<Vec<Edit>, String> {
        let text = self.text;
        let (key, colon) = self.key_colon(parent, index)?;
        let key_col = text.col(key);
        if parent.flow {
            let start = text.skip_blank(colon + 1);
            let end = text
                .flow_node_end(start, true)
                .ok_or("unterminated value")?;
            return Ok(vec![Edit {
                start,
                end,
                text: self.flow_value(value, key_col),
            }]);
        }
        let key_line = text.line_of(key);
        let last = text.block_end(key_line, key_col + 1, Some(key_col));
        let block_end = text.line_end(last);
        let start = text.skip_spaces(colon + 1);
        let b = text.s.as_bytes();
        let inline = render::inline(value, false);
        if matches!(b.get(start), None | Some(b'#' | b'\r' | b'\n')) {
            // The old value is on the following lines, or empty (null).
            let mut out = Vec::new();
            let rest = text.line_end(key_line);
            match inline {
                Some(s) => {
                    out.push(Edit {
                        start: colon + 1,
                        end: colon + 1,
                        text: format!(" {s}"),
                    });
                    if last > key_line {
                        out.push(Edit {
                            start: rest,
                            end: block_end,
                            text: String::new(),
                        });
                    }
                }
                None => out.push(Edit {
                    start: rest,
                    end: block_end,
                    text: render::tail(value, key_col, self.style),
                }),
            }
            return Ok(out);
        }
        let token = text.skip_props(start, false);
        let old_is_flow = matches!(b.get(token), Some(b'{' | b'['));
        let end = match b.get(token) {
            None | Some(b'|' | b'>' | b'\r' | b'\n') => block_end,
            Some(b'{' | b'[' | b'"' | b'\'' | b'*') => text
                .flow_node_end(token, false)
                .ok_or("unterminated value")?,
            Some(_) if last == key_line => text.flow_node_end(token, false).unwrap_or(block_end),
            Some(_) => block_end,
        };
        Ok(vec![match inline {
            Some(s) => Edit {
                start,
                end,
                text: s,
            },
            None if old_is_flow => Edit {
                start,
                end,
                text: render::flow(value, false),
            },
            None => Edit {
                start: colon + 1,
                end,
                text: render::tail(value, key_col, self.style),
            },
        }])
    }

    fn replace_item(
        &self,
        parent: &Node<'_>,
        index: usize,
        value: &Value,
    ) -> Result<Vec<Edit>, String> {
        let text = self.text;
        let start = self.offset(self.child(parent, index)?.value)?;
        if parent.flow {
            let end = text
                .flow_node_end(start, true)
                .ok_or("unterminated value")?;
            return Ok(vec![Edit {
                start,
                end,
                text: self.flow_value(value, text.col(start)),
            }]);
        }
        let dash = text
            .dash_of_item(start)
            .ok_or("the list entry does not start on its `-` line")?;
        // A block scalar is located at its text; replace it from its header.
        let start = if text.line_of(dash) == text.line_of(start) {
            start
        } else {
            text.skip_spaces(dash + 1)
        };
        let dash_col = text.col(dash);
        let last = text.block_end(text.line_of(dash), dash_col + 1, None);
        let block_end = text.line_end(last);
        let b = text.s.as_bytes();
        let token = text.skip_props(start, false);
        let old = &parent.value[index];
        let old_is_block =
            (old.is_object() || old.is_array()) && !matches!(b.get(token), Some(b'{' | b'['));
        let end = match b.get(token) {
            _ if old_is_block => block_end,
            None | Some(b'|' | b'>' | b'\r' | b'\n') => block_end,
            Some(b'{' | b'[' | b'"' | b'\'' | b'*') => text
                .flow_node_end(token, false)
                .ok_or("unterminated value")?,
            Some(_) if last == text.line_of(dash) => {
                text.flow_node_end(token, false).unwrap_or(block_end)
            }
            Some(_) => block_end,
        };
        Ok(vec![Edit {
            start,
            end,
            text: self.item_body(value, dash_col + 2),
        }])
    }

    /// A list entry's value, written after `- ` (its nested lines indented `indent`).
    fn item_body(&self, value: &Value, indent: usize) -> String {
        match value {
            Value::Object(map) if !map.is_empty() => {
                render::block(value, indent, self.style)[indent..].to_owned()
            }
            other => render::flow(other, false),
        }
    }

    fn insert_entry(
        &self,
        parent: &Node<'_>,
        key: &str,
        value: &Value,
    ) -> Result<Vec<Edit>, String> {
        let text = self.text;
        let b = text.s.as_bytes();
        let name = render::key(key, self.style.json);
        if b.get(parent.content) == Some(&b'{') {
            let close = text
                .collection_end(parent.content)
                .ok_or("unterminated flow mapping")?
                - 1;
            let indent = match parent.span.children.last() {
                Some(last) => text.col(self.offset(last.key)?),
                None => text.indent(text.line_of(parent.content)) + self.style.step,
            };
            let entry = format!("{name}: {}", self.flow_value(value, indent));
            return Ok(vec![self.flow_insert(parent.content, close, entry, indent)]);
        }
        if parent.flow {
            return Err("the mapping is not written where expected".to_owned());
        }
        let key_col = text.col(parent.content);
        let last = text.block_end(text.line_of(parent.content), key_col, None);
        let at = text.line_end(last);
        Ok(vec![Edit {
            start: at,
            end: at,
            text: format!(
                "{}{}{name}:{}",
                self.style.newline,
                self.pad(key_col),
                render::tail(value, key_col, self.style)
            ),
        }])
    }

    /// Inserts `entry` as the last entry of the flow collection opened at `open` and closed at
    /// `close`: on a line of its own when the entries are written one per line.
    fn flow_insert(&self, open: usize, close: usize, entry: String, indent: usize) -> Edit {
        let text = self.text;
        let last = text.last_content_before(close);
        let b = text.s.as_bytes();
        let own_line = text.line_of(close) > text.line_of(last) && last > open;
        let at = last + 1;
        let text = if last == open {
            entry
        } else {
            let comma = if b[last] == b',' { "" } else { "," };
            if own_line {
                format!("{comma}{}{}{entry}", self.style.newline, self.pad(indent))
            } else {
                format!("{comma} {entry}")
            }
        };
        Edit {
            start: at,
            end: at,
            text,
        }
    }

    fn insert_item(
        &self,
        parent: &Node<'_>,
        index: usize,
        value: &Value,
    ) -> Result<Vec<Edit>, String> {
        let text = self.text;
        let b = text.s.as_bytes();
        let len = parent.span.children.len();
        if b.get(parent.content) == Some(&b'[') && !parent.at_first_entry {
            if index < len {
                let at = self.offset(self.child(parent, index)?.value)?;
                let item = self.flow_value(value, text.col(at));
                return Ok(vec![Edit {
                    start: at,
                    end: at,
                    text: format!("{item}, "),
                }]);
            }
            let close = text
                .collection_end(parent.content)
                .ok_or("unterminated flow list")?
                - 1;
            let indent = match parent.span.children.last() {
                Some(last) => text.col(self.offset(last.value)?),
                None => text.indent(text.line_of(parent.content)) + self.style.step,
            };
            let item = self.flow_value(value, indent);
            return Ok(vec![self.flow_insert(parent.content, close, item, indent)]);
        }
        // A list not indented under its key is located at its first entry's value.
        let dash = match b.get(parent.content) {
            Some(b'-') if !parent.at_first_entry => Some(parent.content),
            _ => text.dash_before(parent.content),
        };
        let dash = dash
            .filter(|_| !parent.flow)
            .ok_or("the list is not written where expected")?;
        let dash_col = text.col(dash);
        let body = self.item_body(value, dash_col + 2);
        if index < len {
            let item = self.offset(self.child(parent, index)?.value)?;
            let dash = text
                .dash_before(item)
                .filter(|&d| text.first_on_line(d))
                .ok_or("the list entry does not start its line")?;
            let at = text.line_start(text.line_of(dash));
            return Ok(vec![Edit {
                start: at,
                end: at,
                text: format!("{}- {body}{}", self.pad(dash_col), self.style.newline),
            }]);
        }
        let last = text.block_end(text.line_of(dash), dash_col + 1, Some(dash_col));
        let at = text.line_end(last);
        Ok(vec![Edit {
            start: at,
            end: at,
            text: format!("{}{}- {body}", self.style.newline, self.pad(dash_col)),
        }])
    }

    /// Removes a flow entry from `start` to `end` with the comma that separates it.
    fn flow_remove(&self, start: usize, end: usize) -> Edit {
        let text = self.text;
        let b = text.s.as_bytes();
        let after = text.skip_blank(end);
        if b.get(after) == Some(&b',') {
            return Edit {
                start,
                end: text.skip_blank(after + 1),
                text: String::new(),
            };
        }
        let before = text.last_content_before(start);
        if b.get(before) == Some(&b',') {
            return Edit {
                start: before,
                end,
                text: String::new(),
            };
        }
        Edit {
            start,
            end,
            text: String::new(),
        }
    }

    fn remove_entry(&self, parent: &Node<'_>, index: usize) -> Result<Vec<Edit>, String> {
        let text = self.text;
        let (key, colon) = self.key_colon(parent, index)?;
        if parent.flow {
            let start = text.skip_blank(colon + 1);
            let end = text
                .flow_node_end(start, true)
                .ok_or("unterminated value")?;
            return Ok(vec![self.flow_remove(key, end)]);
        }
        let key_col = text.col(key);
        let key_line = text.line_of(key);
        let last = text.block_end(key_line, key_col + 1, Some(key_col));
        self.remove_lines(key, key_line, last, key_col)
    }

    /// Removes a block node that starts at `start` (on line `first`) and ends on line `last`:
    /// whole lines when it starts its line, else up to the next sibling at column `col`, which
    /// moves up to take its place.
    fn remove_lines(
        &self,
        start: usize,
        first: usize,
        last: usize,
        col: usize,
    ) -> Result<Vec<Edit>, String> {
        let text = self.text;
        if text.first_on_line(start) {
            return Ok(vec![Edit {
                start: text.line_start(first),
                end: text.next_line_start(last),
                text: String::new(),
            }]);
        }
        let next = (last + 1..text.lines())
            .find(|&l| !text.is_blank(l))
            .filter(|&l| text.indent(l) == col)
            .ok_or("the next entry is not where expected")?;
        Ok(vec![Edit {
            start,
            end: text.line_start(next) + col,
            text: String::new(),
        }])
    }

    fn remove_item(&self, parent: &Node<'_>, index: usize) -> Result<Vec<Edit>, String> {
        let text = self.text;
        let start = self.offset(self.child(parent, index)?.value)?;
        if parent.flow {
            let end = text
                .flow_node_end(start, true)
                .ok_or("unterminated value")?;
            return Ok(vec![self.flow_remove(start, end)]);
        }
        let dash = text
            .dash_of_item(start)
            .ok_or("the list entry does not start on its `-` line")?;
        let dash_col = text.col(dash);
        let line = text.line_of(dash);
        let last = text.block_end(line, dash_col + 1, None);
        self.remove_lines(dash, line, last, dash_col)
    }
}
