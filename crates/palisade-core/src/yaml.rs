//! YAML decoding as the Kubernetes API server does it (sigs.k8s.io/yaml over go-yaml v2):
//! YAML 1.1 plain scalars (`yes`/`no`/`on`/`off`/`y`/`n` booleans, `0755` octal, `0x` hex,
//! `_` separators), `<<` merge keys, anchors and aliases, non-string keys turned into strings,
//! timestamps kept as strings, and duplicate keys resolved to the last value (and recorded).

use std::cell::Cell;
use std::collections::HashMap;

use saphyr_parser::input::SkipTabs;
use saphyr_parser::{Event, Input, Parser, ScalarStyle, ScanError, Span, StrInput};
use serde_json::{Map, Number, Value};

use crate::fast;
use crate::limits::{Limits, NodeBudget};
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

/// The decoder charges the file's [`NodeBudget`] this many nodes at a time (and before the node
/// that would cross the limit), so that chunks of one file decoded in parallel rarely touch the
/// shared counter.
const CHARGE_BATCH: usize = 4096;

/// A collection with at least this many children takes the whole scratch stack as its value
/// when it is the outermost open collection of its kind, instead of copying its children out.
const TAKE_STACK: usize = 1024;

/// An open collection. Its children live on the decoder's [`Scratch`] stacks from the recorded
/// start index on.
enum Frame {
    Seq {
        start: usize,
        count: usize,
        pos: Pos,
        anchor: usize,
    },
    Map {
        start: usize,
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
/// collection ends. Decoding a document thus allocates each collection once. Sequences and
/// mappings have stacks of their own, so that a large collection is usually the whole stack
/// and is taken without a copy (see [`take_tail`]).
#[derive(Default)]
struct Scratch {
    items: Vec<Value>,
    item_spans: Vec<SpanNode>,
    entries: Vec<(String, Value)>,
    /// Whether each entry was written in the mapping itself (not merged in with `<<`).
    explicit: Vec<bool>,
    entry_spans: Vec<SpanNode>,
}

/// The children of a collection that start at `start` on a scratch stack. A large collection
/// whose children are the whole stack takes the stack itself: copying it out would need its
/// size in memory twice (and the stack's spare capacity goes back with `shrink_to_fit`, which
/// allocators do in place).
fn take_tail<T>(stack: &mut Vec<T>, start: usize) -> Vec<T> {
    if start == 0 && stack.len() >= TAKE_STACK {
        let mut all = std::mem::take(stack);
        all.shrink_to_fit();
        all
    } else {
        stack.drain(start..).collect()
    }
}

/// What the YAML parser reads ahead of the events it returns. It keeps every token of a flow
/// collection (`[...]`, `{...}`) until the collection ends, since the collection could still
/// turn out to be a mapping key: a 60 MB `[a,a,...]` costs gigabytes before its first event,
/// out of reach of a count of decoded nodes. The flow indicators read ahead (`,`, `[` and `{`,
/// one per entry or collection, plus any in quoted strings) bound the nodes that the tokens in
/// memory will decode to, and are held to what is left of the budget.
struct ReadAhead {
    indicators: Cell<usize>,
    allowed: Cell<usize>,
    /// The input was cut short because the indicators read ahead crossed `allowed`.
    cut: Cell<bool>,
}

/// The text, as the parser reads it, cut short (the parser then sees its end) when more flow
/// indicators than [`ReadAhead::allowed`] are read ahead of the events.
struct BudgetedInput<'a> {
    inner: StrInput<'a>,
    ahead: &'a ReadAhead,
}

impl Input for BudgetedInput<'_> {
    fn lookahead(&mut self, count: usize) {
        self.inner.lookahead(count);
    }

    fn buflen(&self) -> usize {
        self.inner.buflen()
    }

    fn bufmaxlen(&self) -> usize {
        self.inner.bufmaxlen()
    }

    fn buf_is_empty(&self) -> bool {
        self.inner.buf_is_empty()
    }

    fn raw_read_ch(&mut self) -> char {
        self.inner.raw_read_ch()
    }

    fn raw_read_non_breakz_ch(&mut self) -> Option<char> {
        self.inner.raw_read_non_breakz_ch()
    }

    /// The parser consumes flow indicators (and quoted characters) one at a time, here.
    fn skip(&mut self) {
        if matches!(self.inner.peek(), ',' | '[' | '{') {
            let read = self.ahead.indicators.get().saturating_add(1);
            self.ahead.indicators.set(read);
            if read > self.ahead.allowed.get() {
                self.ahead.cut.set(true);
                self.inner = StrInput::new("");
                return;
            }
        }
        self.inner.skip();
    }

    fn skip_n(&mut self, count: usize) {
        self.inner.skip_n(count);
    }

    fn peek(&self) -> char {
        self.inner.peek()
    }

    fn peek_nth(&self, n: usize) -> char {
        self.inner.peek_nth(n)
    }

    fn peek_opt(&self) -> Option<char> {
        self.inner.peek_opt()
    }

    fn look_ch(&mut self) -> char {
        self.inner.look_ch()
    }

    fn next_char_is(&self, c: char) -> bool {
        self.inner.next_char_is(c)
    }

    fn nth_char_is(&self, n: usize, c: char) -> bool {
        self.inner.nth_char_is(n, c)
    }

    fn next_2_are(&self, c1: char, c2: char) -> bool {
        self.inner.next_2_are(c1, c2)
    }

    fn next_3_are(&self, c1: char, c2: char, c3: char) -> bool {
        self.inner.next_3_are(c1, c2, c3)
    }

    fn next_is_document_indicator(&self) -> bool {
        self.inner.next_is_document_indicator()
    }

    fn next_is_document_start(&self) -> bool {
        self.inner.next_is_document_start()
    }

    fn next_is_document_end(&self) -> bool {
        self.inner.next_is_document_end()
    }

    fn skip_ws_to_eol(&mut self, skip_tabs: SkipTabs) -> (usize, Result<SkipTabs, &'static str>) {
        self.inner.skip_ws_to_eol(skip_tabs)
    }

    fn next_can_be_plain_scalar(&self, in_flow: bool) -> bool {
        self.inner.next_can_be_plain_scalar(in_flow)
    }

    fn next_is_blank_or_break(&self) -> bool {
        self.inner.next_is_blank_or_break()
    }

    fn next_is_blank_or_breakz(&self) -> bool {
        self.inner.next_is_blank_or_breakz()
    }

    fn next_is_blank(&self) -> bool {
        self.inner.next_is_blank()
    }

    fn next_is_break(&self) -> bool {
        self.inner.next_is_break()
    }

    fn next_is_breakz(&self) -> bool {
        self.inner.next_is_breakz()
    }

    fn next_is_z(&self) -> bool {
        self.inner.next_is_z()
    }

    fn next_is_flow(&self) -> bool {
        self.inner.next_is_flow()
    }

    fn next_is_digit(&self) -> bool {
        self.inner.next_is_digit()
    }

    fn next_is_alpha(&self) -> bool {
        self.inner.next_is_alpha()
    }

    fn skip_while_non_breakz(&mut self) -> usize {
        self.inner.skip_while_non_breakz()
    }

    fn skip_while_blank(&mut self) -> usize {
        self.inner.skip_while_blank()
    }

    fn fetch_while_is_alpha(&mut self, out: &mut String) -> usize {
        self.inner.fetch_while_is_alpha(out)
    }

    fn fetch_while_is_yaml_non_space(&mut self, out: &mut String) -> usize {
        self.inner.fetch_while_is_yaml_non_space(out)
    }
}

/// Columns added at the start of some lines of the text before it was decoded (see
/// `relax_quoted_indentation` in the loader), by line number in the decoder's positions: they
/// are taken off the columns reported on those lines, so positions stay those of the original
/// text.
pub(crate) type ColumnShifts = std::collections::BTreeMap<u32, u32>;

fn shifted(line: u32, col: u32, shifts: &ColumnShifts) -> Pos {
    let col = match shifts.get(&line) {
        Some(&added) => col.saturating_sub(added).max(1),
        None => col,
    };
    Pos::new(line, col)
}

fn pos_of(span: &Span, line_offset: u32, shifts: &ColumnShifts) -> Pos {
    shifted(
        span.start.line() as u32 + line_offset,
        span.start.col() as u32 + 1,
        shifts,
    )
}

/// Decodes every document of `text`, calling `emit` for each document or error. `line_offset`
/// is added to every line (used when parsing resumes after a syntax error).
///
/// `shifts` maps lines (numbered as in the positions reported) to columns the caller added at
/// their start; positions on those lines are given in the original columns.
///
/// Every node decoded is charged to `budget`; once it is spent (by this call or by another
/// thread decoding another part of the same file), decoding stops at once, the document being
/// decoded is dropped and the rest of the text is not parsed. Returns the nodes charged.
pub(crate) fn decode(
    text: &str,
    line_offset: u32,
    shifts: &ColumnShifts,
    limits: &Limits,
    budget: &NodeBudget,
    decoding: Decoding,
    emit: &mut dyn FnMut(Item),
) -> usize {
    let mut decoder = Decoder {
        limits,
        budget,
        unflushed: 0,
        seen: budget.used(),
        charged: 0,
        document_nodes: 0,
        deferred: false,
        stopped: false,
        anchors: HashMap::new(),
        stack: Vec::new(),
        scratch: Scratch::default(),
        alias_nodes: 0,
        duplicates: Vec::new(),
        root: None,
        skipping: None,
    };
    // The fast scanner reports positions in the text it is given: not after columns were
    // added to it. The full parser keeps directives (`%TAG`) from one document to the next:
    // a stream with directives is left to it whole.
    let fast = decoding == Decoding::FastPath
        && shifts.is_empty()
        && !(text.starts_with('%') || text.contains("\n%"));
    let (mut at, mut lines) = (0usize, 0u32);
    loop {
        if fast {
            let mut sink = FastSink {
                decoder: &mut decoder,
                emit: &mut *emit,
                last: Pos::new(line_offset + lines + 1, 1),
            };
            sink.decoder.deferred = true;
            let end = fast::scan(&text[at..], line_offset + lines, &mut sink);
            decoder.deferred = false;
            match end {
                fast::End::Done(end) => {
                    decoder.flush(end);
                    return decoder.charged;
                }
                fast::End::Stopped => return decoder.charged,
                fast::End::Fallback {
                    at: document,
                    lines: before,
                } => {
                    decoder.abandon_document();
                    at += document;
                    lines += before;
                }
            }
        }
        let rest = &text[at..];
        match full_parse(&mut decoder, rest, line_offset + lines, shifts, fast, emit) {
            Some((document, before)) => {
                at += document;
                lines += before;
            }
            None => return decoder.charged,
        }
    }
}

/// Which YAML scanner decodes the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Decoding {
    /// The scanner for the block-style subset manifests are written in, and the full parser
    /// for every document outside it (the default).
    #[default]
    FastPath,
    /// The full YAML parser alone (to compare the two, in tests and benchmarks).
    FullParser,
}

/// The fast scanner's events go to the decoder; documents to `emit`. The budget is charged at
/// the end of each document, and a document that would cross it goes to the full parser, which
/// stops at the node that crosses it (the fast scanner could have reported nodes past an error
/// the full parser finds first, looking ahead).
struct FastSink<'d, 'l, 'e> {
    decoder: &'d mut Decoder<'l>,
    emit: &'e mut dyn FnMut(Item),
    /// The position of the last event.
    last: Pos,
}

impl fast::Sink for FastSink<'_, '_, '_> {
    fn start_document(&mut self) {
        self.decoder.start_document();
    }

    fn room(&self) -> bool {
        let counted = self.decoder.seen.saturating_add(self.decoder.unflushed);
        counted < self.decoder.budget.limit()
    }

    fn event(&mut self, event: Event<'_>, pos: Pos) {
        self.last = pos;
        self.decoder.event(event, pos);
    }

    fn end_document(&mut self) {
        if let Some(item) = self.decoder.end_document() {
            (self.emit)(item);
        }
        if self.decoder.unflushed >= CHARGE_BATCH {
            self.decoder.flush(self.last);
        }
    }

    fn stopped(&self) -> bool {
        self.decoder.stopped
    }
}

/// Decodes `text` with the full parser. With `one_document`, stops after the first document
/// that the next one's `---` line ends, and returns the byte offset and line number (from 0)
/// of that line, where the fast scanner can take over again; otherwise decodes to the end.
/// The parser knows anchors from one document to the next (an alias to an earlier document's
/// anchor is then an error of the decoder, not of the parser): after a document with an
/// anchor, it decodes the rest of the text.
fn full_parse(
    decoder: &mut Decoder<'_>,
    text: &str,
    line_offset: u32,
    shifts: &ColumnShifts,
    one_document: bool,
    emit: &mut dyn FnMut(Item),
) -> Option<(usize, u32)> {
    let ahead = ReadAhead {
        indicators: Cell::new(0),
        allowed: Cell::new(decoder.allowed()),
        cut: Cell::new(false),
    };
    let mut parser = Parser::new(BudgetedInput {
        inner: StrInput::new(text),
        ahead: &ahead,
    });
    let mut pos = Pos::new(line_offset + 1, 1);
    let mut anchored = false;
    loop {
        if decoder.stopped {
            return None;
        }
        let mut next = parser.next_event();
        if ahead.cut.get() {
            // The tokens read ahead would decode to more nodes than the budget has left. Their
            // events (no more than the budget had left) lead to the last node before the cut.
            while let Some(Ok((event, span))) = next {
                if event == Event::StreamEnd {
                    break;
                }
                pos = pos_of(&span, line_offset, shifts);
                next = parser.next_event();
            }
            decoder.charge(ahead.indicators.get(), pos);
            decoder.flush(pos);
            return None;
        }
        let (event, span) = match next {
            None => break,
            Some(Ok(pair)) => pair,
            Some(Err(err)) => {
                emit(Item::Error(scan_error(&err, line_offset, shifts)));
                break;
            }
        };
        pos = pos_of(&span, line_offset, shifts);
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart(_) => decoder.start_document(),
            Event::DocumentEnd => {
                if let Some(item) = decoder.end_document() {
                    emit(item);
                }
                if one_document && !anchored && !decoder.stopped {
                    if let Some(resume) = marker_line(text, span.start.line()) {
                        return Some(resume);
                    }
                }
            }
            other => {
                anchored |= matches!(
                    other,
                    Event::Scalar(_, _, anchor, _)
                        | Event::SequenceStart(anchor, _)
                        | Event::MappingStart(anchor, _) if anchor != 0
                );
                decoder.event(other, pos);
            }
        }
        ahead.indicators.set(0);
        ahead.allowed.set(decoder.allowed());
    }
    decoder.flush(pos);
    None
}

/// The byte offset and number (from 0) of line `line` (from 1) of `text`, when it is a `---`
/// line.
fn marker_line(text: &str, line: usize) -> Option<(usize, u32)> {
    let index = line.checked_sub(1)?;
    let start = if index == 0 {
        0
    } else {
        text.match_indices('\n').nth(index - 1)?.0 + 1
    };
    let rest = &text[start..];
    let is_marker = rest.starts_with("---")
        && matches!(rest.as_bytes().get(3), None | Some(b' ' | b'\t' | b'\n'));
    is_marker.then_some((start, index as u32))
}

fn scan_error(err: &ScanError, line_offset: u32, shifts: &ColumnShifts) -> DecodeError {
    let marker = err.marker();
    DecodeError {
        pos: shifted(
            marker.line() as u32 + line_offset,
            marker.col() as u32 + 1,
            shifts,
        ),
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
    budget: &'l NodeBudget,
    /// Nodes decoded but not yet charged to the budget.
    unflushed: usize,
    /// The budget's total after this decoder's last charge.
    seen: usize,
    /// Nodes this decoder charged to the budget.
    charged: usize,
    /// `charged + unflushed` when the current document started.
    document_nodes: usize,
    /// Nodes are charged to the budget at the end of a document only (while the fast scanner
    /// decodes: its document may still go to the full parser).
    deferred: bool,
    /// The budget is spent: decoding ends.
    stopped: bool,
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
        self.document_nodes = self.charged.saturating_add(self.unflushed);
        self.anchors.clear();
        self.clear_stack();
        self.alias_nodes = 0;
        self.duplicates.clear();
        self.root = None;
        self.skipping = None;
    }

    /// Forgets the current document, which the full parser decodes again: its nodes are no
    /// longer counted.
    fn abandon_document(&mut self) {
        let counted = self.charged.saturating_add(self.unflushed);
        let nodes = counted.saturating_sub(self.document_nodes);
        let unflushed = nodes.min(self.unflushed);
        self.unflushed -= unflushed;
        let flushed = nodes - unflushed;
        if flushed > 0 {
            self.budget.release(flushed);
            self.charged -= flushed;
            self.seen = self.seen.saturating_sub(flushed);
        }
        self.start_document();
    }

    fn clear_stack(&mut self) {
        self.stack.clear();
        self.scratch.items.clear();
        self.scratch.item_spans.clear();
        self.scratch.entries.clear();
        self.scratch.explicit.clear();
        self.scratch.entry_spans.clear();
    }

    /// Nodes the budget has left, as far as this decoder knows.
    fn allowed(&self) -> usize {
        self.budget
            .limit()
            .saturating_sub(self.seen.saturating_add(self.unflushed))
    }

    /// Counts `nodes` decoded at `pos`; false (and decoding stops) once the budget is spent.
    fn charge(&mut self, nodes: usize, pos: Pos) -> bool {
        self.unflushed = self.unflushed.saturating_add(nodes);
        if (self.deferred || self.unflushed < CHARGE_BATCH)
            && self.seen.saturating_add(self.unflushed) <= self.budget.limit()
        {
            return true;
        }
        self.flush(pos)
    }

    /// Charges the nodes counted since the last charge; false (and decoding stops) once the
    /// budget is spent.
    fn flush(&mut self, pos: Pos) -> bool {
        if self.unflushed > 0 {
            self.seen = self.budget.charge(self.unflushed, pos);
            self.charged = self.charged.saturating_add(self.unflushed);
            self.unflushed = 0;
        }
        if self.budget.is_spent() {
            self.stopped = true;
            self.root = None;
            self.clear_stack();
            return false;
        }
        true
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
                if !self.charge(1, pos) {
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
                if self.enter(pos) && self.charge(1, pos) {
                    self.stack.push(Frame::Seq {
                        start: self.scratch.items.len(),
                        count: 1,
                        pos,
                        anchor,
                    });
                }
            }
            Event::MappingStart(anchor, _) => {
                if self.enter(pos) && self.charge(1, pos) {
                    self.stack.push(Frame::Map {
                        start: self.scratch.entries.len(),
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
                    start,
                    count,
                    pos,
                    anchor,
                }) = self.stack.pop()
                {
                    let node = Node {
                        value: Value::Array(take_tail(&mut self.scratch.items, start)),
                        spans: SpanNode {
                            key: pos,
                            value: pos,
                            children: take_tail(&mut self.scratch.item_spans, start),
                        },
                        count,
                    };
                    self.finish(node, anchor, pos);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    start,
                    count,
                    pos,
                    anchor,
                    ..
                }) = self.stack.pop()
                {
                    self.scratch.explicit.truncate(start);
                    let node = Node {
                        value: Value::Object(self.scratch.entries.drain(start..).collect()),
                        spans: SpanNode {
                            key: pos,
                            value: pos,
                            children: take_tail(&mut self.scratch.entry_spans, start),
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
                if !self.charge(self.anchors[&anchor].count, pos) {
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
                self.scratch.item_spans.push(node.spans);
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
        let Some(Frame::Map { start, index, .. }) = self.stack.last_mut() else {
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
                scratch.explicit[*start + at].then(|| (key, scratch.entry_spans[*start + at].key));
            scratch.entries[*start + at].1 = value;
            scratch.entry_spans[*start + at] = spans;
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
        scratch.entry_spans.push(spans);
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
            if let Frame::Seq { start, .. } = frame {
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
    !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.' | b'~'))
        && (text.len() > 5 || plain_word(text).is_none())
}

/// The YAML 1.1 null and boolean words (all of them five characters or shorter).
fn plain_word(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(Value::Bool(false))
        }
        _ => None,
    }
}

/// Resolves an untagged plain scalar as go-yaml v2 does.
pub(crate) fn resolve_plain(text: &str) -> Value {
    if let Some(word) = plain_word(text) {
        return word;
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
