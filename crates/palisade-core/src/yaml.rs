//! YAML decoding as the Kubernetes API server does it (sigs.k8s.io/yaml over go-yaml v2):
//! YAML 1.1 plain scalars (`yes`/`no`/`on`/`off`/`y`/`n` booleans, `0755` octal, `0x` hex,
//! `_` separators), `<<` merge keys, anchors and aliases, non-string keys turned into strings,
//! timestamps kept as strings, and duplicate keys resolved to the last value (and recorded).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};
use serde_json::{Map, Number, Value};

use crate::limits::Limits;
use crate::load::DuplicateKey;
use crate::pointer;
use crate::pos::{Pos, SpanNode};

/// One decoded YAML document.
pub(crate) struct Document {
    pub value: Value,
    pub spans: SpanNode,
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// What went wrong while decoding a stream.
pub(crate) struct DecodeError {
    pub pos: Pos,
    pub message: String,
    /// The syntax error ends the parse of the stream (as opposed to a problem within one
    /// document, after which parsing continues with the next document).
    pub fatal: bool,
}

pub(crate) enum Item {
    Document(Box<Document>),
    Error(DecodeError),
}

struct Node {
    value: Value,
    spans: SpanNode,
    /// Number of nodes in the value, for the alias expansion budget.
    count: usize,
}

struct PendingKey {
    key: String,
    pos: Pos,
    merge: bool,
}

/// Mappings with more entries than this get a hash index of their keys while they are built
/// (duplicate keys are looked up on every insert); smaller ones are searched in order.
const INDEXED_MAP: usize = 16;

/// An open collection. Its children live on the decoder's [`Scratch`] stacks from the recorded
/// start indices on.
enum Frame {
    Seq {
        items: usize,
        spans: usize,
        count: usize,
        pos: Pos,
        anchor: usize,
    },
    Map {
        entries: usize,
        spans: usize,
        pending: Option<PendingKey>,
        /// Position of every key, for mappings larger than [`INDEXED_MAP`].
        index: Option<HashMap<String, usize>>,
        count: usize,
        pos: Pos,
        anchor: usize,
    },
}

/// The children of every open collection, on stacks shared by all of them: a collection's
/// children are the tail of a stack, moved out into a value of exactly their size when the
/// collection ends. Decoding a document thus allocates each collection once.
#[derive(Default)]
struct Scratch {
    items: Vec<Value>,
    entries: Vec<(String, Value)>,
    /// Whether each entry was written in the mapping itself (not merged in with `<<`).
    explicit: Vec<bool>,
    spans: Vec<SpanNode>,
}

fn pos_of(span: &Span, line_offset: u32) -> Pos {
    Pos::new(
        span.start.line() as u32 + line_offset,
        span.start.col() as u32 + 1,
    )
}

/// Decodes every document of `text`, calling `emit` for each document or error. `line_offset`
/// is added to every line (used when parsing resumes after a syntax error).
pub(crate) fn decode(text: &str, line_offset: u32, limits: &Limits, emit: &mut dyn FnMut(Item)) {
    let mut decoder = Decoder {
        limits,
        anchors: HashMap::new(),
        stack: Vec::new(),
        scratch: Scratch::default(),
        alias_nodes: 0,
        duplicates: Vec::new(),
        root: None,
        skipping: None,
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, span) = match parser.next_event() {
            None => return,
            Some(Ok(pair)) => pair,
            Some(Err(err)) => {
                emit(Item::Error(scan_error(&err, line_offset)));
                return;
            }
        };
        let pos = pos_of(&span, line_offset);
        match event {
            Event::StreamEnd => return,
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart(_) => decoder.start_document(),
            Event::DocumentEnd => {
                if let Some(item) = decoder.end_document() {
                    emit(item);
                }
            }
            other => decoder.event(other, pos),
        }
    }
}

fn scan_error(err: &ScanError, line_offset: u32) -> DecodeError {
    let marker = err.marker();
    DecodeError {
        pos: Pos::new(marker.line() as u32 + line_offset, marker.col() as u32 + 1),
        message: match err.info() {
            "recursion limit exceeded" => {
                "invalid YAML: nesting too deep for the parser (recursion limit exceeded)"
                    .to_owned()
            }
            info => format!("invalid YAML: {info}"),
        },
        fatal: true,
    }
}

struct Decoder<'l> {
    limits: &'l Limits,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    scratch: Scratch,
    alias_nodes: usize,
    duplicates: Vec<DuplicateKey>,
    root: Option<Node>,
    /// Set when the current document cannot be decoded; its remaining events are ignored.
    skipping: Option<DecodeError>,
}

impl Decoder<'_> {
    fn start_document(&mut self) {
        self.anchors.clear();
        self.clear_stack();
        self.alias_nodes = 0;
        self.duplicates.clear();
        self.root = None;
        self.skipping = None;
    }

    fn clear_stack(&mut self) {
        self.stack.clear();
        self.scratch.items.clear();
        self.scratch.entries.clear();
        self.scratch.explicit.clear();
        self.scratch.spans.clear();
    }

    fn end_document(&mut self) -> Option<Item> {
        if let Some(err) = self.skipping.take() {
            return Some(Item::Error(err));
        }
        let root = self.root.take()?;
        Some(Item::Document(Box::new(Document {
            value: root.value,
            spans: root.spans,
            duplicate_keys: std::mem::take(&mut self.duplicates),
        })))
    }

    fn fail(&mut self, pos: Pos, message: String) {
        if self.skipping.is_none() {
            self.skipping = Some(DecodeError {
                pos,
                message,
                fatal: false,
            });
        }
        self.clear_stack();
    }

    /// The innermost open mapping when it waits for a key.
    fn pending_key_slot(&mut self) -> Option<&mut Option<PendingKey>> {
        match self.stack.last_mut() {
            Some(Frame::Map { pending, .. }) if pending.is_none() => Some(pending),
            _ => None,
        }
    }

    fn event(&mut self, event: Event<'_>, pos: Pos) {
        if self.skipping.is_some() {
            return;
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                // A mapping key waiting for its name.
                if let Some(slot) = self.pending_key_slot() {
                    let merge = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
                    let key = if style == ScalarStyle::Plain
                        && tag.is_none()
                        && !is_plain_string(&text)
                    {
                        key_string(&resolve_plain(&text))
                    } else {
                        text.into_owned()
                    };
                    let value = (anchor != 0).then(|| Value::String(key.clone()));
                    *slot = Some(PendingKey { key, pos, merge });
                    if let Some(value) = value {
                        self.anchors.insert(
                            anchor,
                            Node {
                                value,
                                spans: SpanNode::leaf(pos, pos),
                                count: 1,
                            },
                        );
                    }
                    return;
                }
                let value =
                    if tag.is_none() && (style != ScalarStyle::Plain || is_plain_string(&text)) {
                        Value::String(text.into_owned())
                    } else {
                        match resolve_scalar(&text, style, tag.as_deref()) {
                            Ok(value) => value,
                            Err(message) => return self.fail(pos, message),
                        }
                    };
                let node = Node {
                    value,
                    spans: SpanNode::leaf(pos, pos),
                    count: 1,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, clone_node(&node));
                }
                self.push_value(node, pos);
            }
            Event::SequenceStart(anchor, _) => {
                if self.enter(pos) {
                    self.stack.push(Frame::Seq {
                        items: self.scratch.items.len(),
                        spans: self.scratch.spans.len(),
                        count: 1,
                        pos,
                        anchor,
                    });
                }
            }
            Event::MappingStart(anchor, _) => {
                if self.enter(pos) {
                    self.stack.push(Frame::Map {
                        entries: self.scratch.entries.len(),
                        spans: self.scratch.spans.len(),
                        pending: None,
                        index: None,
                        count: 1,
                        pos,
                        anchor,
                    });
                }
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    items,
                    spans,
                    count,
                    pos,
                    anchor,
                }) = self.stack.pop()
                {
                    let node = Node {
                        value: Value::Array(self.scratch.items.drain(items..).collect()),
                        spans: SpanNode {
                            key: pos,
                            value: pos,
                            children: self.scratch.spans.drain(spans..).collect(),
                        },
                        count,
                    };
                    self.finish(node, anchor, pos);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    entries,
                    spans,
                    count,
                    pos,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    self.scratch.explicit.truncate(entries);
                    let node = Node {
                        value: Value::Object(self.scratch.entries.drain(entries..).collect()),
                        spans: SpanNode {
                            key: pos,
                            value: pos,
                            children: self.scratch.spans.drain(spans..).collect(),
                        },
                        count,
                    };
                    self.finish(node, anchor, pos);
                }
            }
            Event::Alias(anchor) => {
                let Some(source) = self.anchors.get(&anchor) else {
                    return self.fail(pos, "alias refers to an unknown anchor".to_owned());
                };
                self.alias_nodes = self.alias_nodes.saturating_add(source.count);
                if self.alias_nodes > self.limits.max_alias_nodes {
                    let limit = self.limits.max_alias_nodes;
                    return self.fail(
                        pos,
                        format!(
                            "aliases expand to more than {limit} nodes (an alias bomb?); \
                             raise --max-alias-nodes to allow it"
                        ),
                    );
                }
                // An alias used as a mapping key.
                if matches!(self.stack.last(), Some(Frame::Map { pending: None, .. })) {
                    let key = match &self.anchors[&anchor].value {
                        Value::Object(_) | Value::Array(_) => {
                            return self.fail(
                                pos,
                                "a mapping or sequence cannot be a mapping key".to_owned(),
                            )
                        }
                        scalar => key_string(scalar),
                    };
                    if let Some(slot) = self.pending_key_slot() {
                        *slot = Some(PendingKey {
                            key,
                            pos,
                            merge: false,
                        });
                    }
                    return;
                }
                let mut node = clone_node(&self.anchors[&anchor]);
                relocate(&mut node.spans, pos);
                self.push_value(node, pos);
            }
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
    }

    /// Opens a collection, unless it would be one level too deep or a mapping key.
    fn enter(&mut self, pos: Pos) -> bool {
        if matches!(self.stack.last(), Some(Frame::Map { pending: None, .. })) {
            self.fail(
                pos,
                "a mapping or sequence cannot be a mapping key".to_owned(),
            );
            return false;
        }
        if self.stack.len() >= self.limits.max_depth {
            let limit = self.limits.max_depth;
            self.fail(
                pos,
                format!(
                    "nesting too deep: more than {limit} levels; raise --max-depth to allow it"
                ),
            );
            return false;
        }
        true
    }

    fn finish(&mut self, node: Node, anchor: usize, pos: Pos) {
        if anchor != 0 {
            self.anchors.insert(anchor, clone_node(&node));
        }
        self.push_value(node, pos);
    }

    fn push_value(&mut self, node: Node, pos: Pos) {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return;
        };
        match frame {
            Frame::Seq { count, .. } => {
                *count += node.count;
                self.scratch.items.push(node.value);
                self.scratch.spans.push(node.spans);
            }
            Frame::Map { pending, count, .. } => {
                let Some(pending) = pending.take() else {
                    return;
                };
                *count += node.count;
                if pending.merge {
                    return self.merge(node, pos);
                }
                let mut spans = node.spans;
                spans.key = pending.pos;
                if let Some((key, first)) = self.put(pending.key, node.value, spans, true) {
                    let path = self.open_path();
                    self.duplicates.push(DuplicateKey {
                        pointer: pointer::push(&path, &key),
                        key,
                        pos: pending.pos,
                        first,
                    });
                }
            }
        }
    }

    /// Sets an entry of the innermost mapping: a new key is appended, an existing one keeps
    /// its place and takes the new value. When the earlier key was written explicitly (not
    /// merged in), this is a duplicate key: returns the key and the earlier key's position.
    fn put(
        &mut self,
        key: String,
        value: Value,
        spans: SpanNode,
        explicit: bool,
    ) -> Option<(String, Pos)> {
        let Some(Frame::Map {
            entries: start,
            spans: span_start,
            index,
            ..
        }) = self.stack.last_mut()
        else {
            return None;
        };
        let scratch = &mut self.scratch;
        let existing = match index {
            Some(index) => index.get(&key).copied(),
            None => scratch.entries[*start..]
                .iter()
                .position(|(k, _)| *k == key),
        };
        if let Some(at) = existing {
            let earlier =
                scratch.explicit[*start + at].then(|| (key, scratch.spans[*span_start + at].key));
            scratch.entries[*start + at].1 = value;
            scratch.spans[*span_start + at] = spans;
            scratch.explicit[*start + at] = explicit;
            return earlier;
        }
        let at = scratch.entries.len() - *start;
        match index {
            Some(index) => {
                index.insert(key.clone(), at);
            }
            None if at + 1 > INDEXED_MAP => {
                let mut keys: HashMap<String, usize> = scratch.entries[*start..]
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect();
                keys.insert(key.clone(), at);
                *index = Some(keys);
            }
            None => {}
        }
        scratch.entries.push((key, value));
        scratch.explicit.push(explicit);
        scratch.spans.push(spans);
        None
    }

    /// `<<: *base` or `<<: [*a, *b]`, with go-yaml v2's semantics: merged keys overwrite keys
    /// set before the merge key, later explicit keys overwrite merged ones, and in a sequence
    /// of maps the earlier map wins.
    fn merge(&mut self, node: Node, pos: Pos) {
        match node.value {
            Value::Object(map) => self.merge_map(map, node.spans.children),
            Value::Array(items) => {
                let pairs: Vec<_> = items.into_iter().zip(node.spans.children).collect();
                for (item, spans) in pairs.into_iter().rev() {
                    if let Value::Object(map) = item {
                        self.merge_map(map, spans.children);
                    }
                }
            }
            // go-yaml rejects other merge values; keep the key so the mistake stays visible.
            other => {
                self.put("<<".to_owned(), other, SpanNode::leaf(pos, pos), true);
            }
        }
    }

    fn merge_map(&mut self, map: Map<String, Value>, spans: Vec<SpanNode>) {
        for ((key, value), span) in map.into_iter().zip(spans) {
            self.put(key, value, span, false);
        }
    }

    /// The JSON pointer of the innermost open mapping (for a duplicate key's report).
    fn open_path(&self) -> String {
        let mut path = String::new();
        let mut items = self.scratch.items.len();
        let mut starts = Vec::new();
        for frame in self.stack.iter().rev() {
            if let Frame::Seq { items: start, .. } = frame {
                starts.push(items - start);
                items = *start;
            } else {
                starts.push(0);
            }
        }
        starts.reverse();
        for (depth, frame) in self.stack.iter().enumerate() {
            if depth + 1 == self.stack.len() {
                break;
            }
            match frame {
                Frame::Seq { .. } => path = pointer::push_index(&path, starts[depth]),
                Frame::Map { pending, .. } => {
                    if let Some(key) = pending {
                        path = pointer::push(&path, &key.key);
                    }
                }
            }
        }
        path
    }
}

fn clone_node(node: &Node) -> Node {
    Node {
        value: node.value.clone(),
        spans: node.spans.clone(),
        count: node.count,
    }
}

/// The root of an alias expansion is reported at the alias itself.
fn relocate(spans: &mut SpanNode, pos: Pos) {
    spans.key = pos;
    spans.value = pos;
}

/// The JSON key that sigs.k8s.io/yaml produces for a scalar key.
fn key_string(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Value, String> {
    match tag {
        None | Some("!") => Ok(if style == ScalarStyle::Plain && tag.is_none() {
            resolve_plain(text)
        } else {
            Value::String(text.to_owned())
        }),
        Some("tag:yaml.org,2002:str") => Ok(Value::String(text.to_owned())),
        Some("tag:yaml.org,2002:null") => Ok(Value::Null),
        Some("tag:yaml.org,2002:bool") => match resolve_plain(text) {
            b @ Value::Bool(_) => Ok(b),
            _ => Err(format!("cannot decode {text:?} as !!bool")),
        },
        Some("tag:yaml.org,2002:int") => match resolve_plain(text) {
            n @ Value::Number(_) if !text.contains('.') => Ok(n),
            _ => Err(format!("cannot decode {text:?} as !!int")),
        },
        Some("tag:yaml.org,2002:float") => match resolve_plain(text) {
            Value::Number(n) => Ok(Value::Number(
                Number::from_f64(n.as_f64().unwrap_or_default()).unwrap_or(n),
            )),
            _ => Err(format!("cannot decode {text:?} as !!float")),
        },
        // Custom and other standard tags (!!binary, !!timestamp, local tags) decode as strings.
        Some(_) => Ok(Value::String(text.to_owned())),
    }
}

/// Whether a plain scalar certainly resolves to itself as a string (the common case for keys):
/// it does not start like a number and is not one of the YAML 1.1 null or boolean words.
fn is_plain_string(text: &str) -> bool {
    let Some(first) = text.bytes().next() else {
        return false;
    };
    !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'~')) && text.len() > 5
}

/// Resolves an untagged plain scalar as go-yaml v2 does.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::String(text.to_owned());
    }
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            // JSON has no infinities or NaN; sigs.k8s.io/yaml fails on them. Keep the text.
            return Value::String(text.to_owned());
        }
        _ => {}
    }
    let plain = text.replace('_', "");
    if let Some(n) = parse_go_int(&plain) {
        return Value::Number(n);
    }
    if is_yaml_float(&plain) {
        if let Ok(f) = plain.parse::<f64>() {
            if let Some(n) = float_number(f) {
                return Value::Number(n);
            }
        }
    }
    Value::String(text.to_owned())
}

/// Go's `strconv.ParseInt(s, 0, 64)` (then `ParseUint`): optional sign, `0x`/`0o`/`0b`
/// prefixes, and a leading `0` meaning octal.
fn parse_go_int(s: &str) -> Option<Number> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            Some(Number::from((magnitude as i64).wrapping_neg()))
        } else {
            None
        }
    } else {
        Some(Number::from(magnitude))
    }
}

/// go-yaml v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// sigs.k8s.io/yaml writes whole floats as integers (`1.0` → `1`).
fn float_number(f: f64) -> Option<Number> {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Some(Number::from(f as i64))
    } else {
        Number::from_f64(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_plain_scalars() {
        assert_eq!(resolve_plain("yes"), json!(true));
        assert_eq!(resolve_plain("Off"), json!(false));
        assert_eq!(resolve_plain("y"), json!(true));
        assert_eq!(resolve_plain("n"), json!(false));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("0755"), json!(493));
        assert_eq!(resolve_plain("0o755"), json!(493));
        assert_eq!(resolve_plain("0x1F"), json!(31));
        assert_eq!(resolve_plain("0b101"), json!(5));
        assert_eq!(resolve_plain("1_000"), json!(1000));
        assert_eq!(resolve_plain("-12"), json!(-12));
        assert_eq!(resolve_plain("+12"), json!(12));
        assert_eq!(resolve_plain("1.5"), json!(1.5));
        assert_eq!(resolve_plain("1e3"), json!(1000));
        assert_eq!(resolve_plain("08"), json!(8));
        assert_eq!(resolve_plain("1.2.3"), json!("1.2.3"));
        assert_eq!(resolve_plain("2021-01-01"), json!("2021-01-01"));
        assert_eq!(resolve_plain("="), json!("="));
        assert_eq!(resolve_plain("500m"), json!("500m"));
        assert_eq!(resolve_plain("."), json!("."));
        assert_eq!(resolve_plain("-"), json!("-"));
        assert_eq!(resolve_plain(".inf"), json!(".inf"));
    }
}
