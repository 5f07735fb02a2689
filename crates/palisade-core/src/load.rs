use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::limits::{Limits, NodeBudget};
use crate::object::{Object, Source};
use crate::pos::{Pos, SpanNode};
use crate::yaml::{self, DecodeError, Decoding, Item};

/// A key that appears twice in one mapping. The API server keeps the last value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateKey {
    /// Pointer of the duplicated field (the value that wins).
    pub pointer: String,
    pub key: String,
    /// Position of the later (winning) key.
    pub pos: Pos,
    /// Position of the earlier key.
    pub first: Pos,
}

/// The kind of an input error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoadErrorKind {
    Io,
    TooLarge,
    Binary,
    Encoding,
    Syntax,
    Limit,
    Empty,
    Type,
}

/// An input error, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{file}:{pos}: {message}")]
pub struct LoadError {
    pub file: String,
    pub pos: Pos,
    pub kind: LoadErrorKind,
    pub message: String,
}

/// Everything decoded from one input.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub errors: Vec<LoadError>,
    /// Documents that are not Kubernetes objects (no `apiVersion` or `kind`).
    pub skipped: usize,
}

impl Loaded {
    /// An input that could not be decoded at all.
    pub fn failed(error: LoadError) -> Self {
        Loaded {
            errors: vec![error],
            ..Loaded::default()
        }
    }

    /// Adds one decoded entry.
    pub fn push(&mut self, entry: Entry) {
        match entry {
            Entry::Object(object) => self.objects.push(object),
            Entry::Error(error) => self.errors.push(error),
            Entry::Skipped => self.skipped += 1,
        }
    }
}

/// One result of decoding, delivered in input order as soon as its document is decoded.
#[derive(Debug)]
pub enum Entry {
    Object(Object),
    Error(LoadError),
    /// A document that is not a Kubernetes object (no `apiVersion` or `kind`).
    Skipped,
}

/// A run of whole documents cut from a stream at `---` markers, so that a large stream can be
/// decoded in parallel. `first_line` is the number of lines of the stream before the chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub text: &'a str,
    pub first_line: u32,
}

/// Reads a file, enforcing the size limit before reading it.
pub fn read_path(path: &Path, display: &str, limits: &Limits) -> Result<Vec<u8>, LoadError> {
    let (file, size) = open_path(path, display, limits)?;
    let mut bytes = Vec::with_capacity(size as usize);
    // Read at most one byte past the limit: the file may grow while we read it.
    file.take(limits.max_file_size + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| read_error(display, &err))?;
    Ok(bytes)
}

/// Opens a file and gives its size, refusing it when it is over the size limit.
pub(crate) fn open_path(
    path: &Path,
    display: &str,
    limits: &Limits,
) -> Result<(std::fs::File, u64), LoadError> {
    let file = std::fs::File::open(path).map_err(|err| read_error(display, &err))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limits.max_file_size {
        return Err(LoadError {
            file: display.to_owned(),
            pos: Pos::new(1, 1),
            kind: LoadErrorKind::TooLarge,
            message: too_large(size, limits.max_file_size),
        });
    }
    Ok((file, size))
}

/// The error for a file that cannot be read.
pub(crate) fn read_error(display: &str, err: &std::io::Error) -> LoadError {
    LoadError {
        file: display.to_owned(),
        pos: Pos::new(1, 1),
        kind: LoadErrorKind::Io,
        message: format!("cannot read file: {err}"),
    }
}

/// Reads and decodes a file, enforcing the size limit before reading it.
pub fn load_path(path: &Path, display: &str, limits: &Limits) -> Loaded {
    match read_path(path, display, limits) {
        Ok(bytes) => load_bytes(&bytes, display, limits),
        Err(error) => Loaded::failed(error),
    }
}

pub(crate) fn too_large(size: u64, max_size: u64) -> String {
    format!("file is {size} bytes, over the limit of {max_size} bytes; raise --max-file-size to scan it")
}

/// The text of bytes read from `display` (a path or `-`), after the checks every input gets:
/// the size limit, no NUL bytes (binary files), valid UTF-8. A byte order mark is dropped.
pub fn check_text<'b>(
    bytes: &'b [u8],
    display: &str,
    limits: &Limits,
) -> Result<&'b str, LoadError> {
    let error = |pos, kind, message: String| LoadError {
        file: display.to_owned(),
        pos,
        kind,
        message,
    };
    if bytes.len() as u64 > limits.max_file_size {
        return Err(error(
            Pos::new(1, 1),
            LoadErrorKind::TooLarge,
            too_large(bytes.len() as u64, limits.max_file_size),
        ));
    }
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(at) = head.iter().position(|&b| b == 0) {
        return Err(error(
            position_of_byte(bytes, at),
            LoadErrorKind::Binary,
            "binary file (contains NUL bytes); not a YAML or JSON manifest".to_owned(),
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(err) => Err(error(
            position_of_byte(bytes, err.valid_up_to()),
            LoadErrorKind::Encoding,
            format!(
                "invalid UTF-8 at byte {}; manifests must be UTF-8",
                err.valid_up_to()
            ),
        )),
    }
}

/// Decodes bytes read from `display` (a path or `-`).
pub fn load_bytes(bytes: &[u8], display: &str, limits: &Limits) -> Loaded {
    match check_text(bytes, display, limits) {
        Ok(text) => load_str(text, display, limits),
        Err(error) => Loaded::failed(error),
    }
}

/// Line and column (in characters) of a byte offset, for errors found before decoding.
pub(crate) fn position_of_byte(bytes: &[u8], at: usize) -> Pos {
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count() as u32
        + 1;
    Pos::new(line, col)
}

/// The error for an input that holds no document at all.
pub fn empty_error(display: &str) -> LoadError {
    LoadError {
        file: display.to_owned(),
        pos: Pos::new(1, 1),
        kind: LoadErrorKind::Empty,
        message: "empty file: no Kubernetes objects".to_owned(),
    }
}

/// Decodes YAML or JSON text. A syntax error ends the document it occurs in; decoding resumes
/// at the next `---` document marker, so one broken document does not hide the others. Text
/// that decodes to more nodes than [`Limits::max_file_nodes`] is refused with one error.
pub fn load_str(text: &str, display: &str, limits: &Limits) -> Loaded {
    load_str_with(text, display, limits, Decoding::FastPath)
}

/// [`load_str`] with the given YAML scanner: both give the same result, which the tests check.
pub fn load_str_with(text: &str, display: &str, limits: &Limits, decoding: Decoding) -> Loaded {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let source = Source::new(display);
    let mut out = Loaded::default();
    let chunk = Chunk {
        text,
        first_line: 0,
    };
    let budget = NodeBudget::file(limits);
    load_chunk_with(chunk, &source, limits, &budget, decoding, &mut |entry| {
        out.push(entry)
    });
    if let Some(error) = budget.error(display) {
        return Loaded::failed(error);
    }
    if out.objects.is_empty() && out.errors.is_empty() && out.skipped == 0 {
        out.errors.push(empty_error(display));
    }
    out
}

/// Cuts a stream into chunks of about `target` bytes at lines that start a document (`---`).
/// Such a line always ends the document before it (the marker cannot occur inside a scalar or
/// a collection), so decoding the chunks one by one gives the documents of the whole stream. A
/// stream with directives (`%YAML`) stays whole: a directive belongs to the document after it.
pub fn split_stream(text: &str, target: usize) -> Vec<Chunk<'_>> {
    let whole = vec![Chunk {
        text,
        first_line: 0,
    }];
    if text.len() <= target || text.starts_with('%') || text.contains("\n%") {
        return whole;
    }
    let bytes = text.as_bytes();
    let finder = memchr::memmem::Finder::new(b"\n---");
    // The first line that starts at `from` or later and is a document marker.
    let next_marker = |from: usize| {
        let mut search = match from.checked_sub(1) {
            Some(before) => before,
            None if is_document_marker(text) => return Some(0),
            None => 0,
        };
        while let Some(found) = finder.find(&bytes[search..]) {
            let line = search + found + 1;
            if is_document_marker(&text[line..]) {
                return Some(line);
            }
            search = line;
        }
        None
    };
    let mut chunks = Vec::new();
    let (mut start, mut start_line) = (0usize, 0u32);
    // A chunk ends at the first marker line at least `target` bytes after its start.
    let mut from = target;
    while from < text.len() {
        let Some(at) = next_marker(from) else {
            break;
        };
        chunks.push(Chunk {
            text: &text[start..at],
            first_line: start_line,
        });
        let lines = count_newlines(&bytes[start..at]);
        (start, start_line) = (at, start_line + lines as u32);
        from = at.saturating_add(target.max(1));
    }
    chunks.push(Chunk {
        text: &text[start..],
        first_line: start_line,
    });
    chunks
}

/// The line feeds in `bytes`, counted in blocks small enough for a byte counter (which the
/// compiler turns into vector instructions).
pub(crate) fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(128)
        .map(|block| {
            block
                .iter()
                .fold(0u8, |count, &b| count + u8::from(b == b'\n'))
        })
        .map(usize::from)
        .sum()
}

fn is_document_marker(line: &str) -> bool {
    starts_document(line.as_bytes())
}

/// Whether a line (the bytes from its start to the end of the text) is a document marker.
pub(crate) fn starts_document(line: &[u8]) -> bool {
    line.strip_prefix(b"---").is_some_and(|rest| {
        rest.first()
            .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    })
}

/// Decodes one chunk of a stream, handing every object, error and skipped document to `sink`
/// in order. Objects are numbered by document from 0 within the chunk; the return value is the
/// number of documents the chunk held, so a caller can renumber the documents of later chunks.
///
/// Decoded nodes are charged to `budget`, the file's (shared by all its chunks): once it is
/// spent, decoding stops and the caller reports [`NodeBudget::error`] instead of the file's
/// entries.
pub fn load_chunk(
    chunk: Chunk<'_>,
    source: &Arc<Source>,
    limits: &Limits,
    budget: &NodeBudget,
    sink: &mut dyn FnMut(Entry),
) -> usize {
    load_chunk_with(chunk, source, limits, budget, Decoding::FastPath, sink)
}

fn load_chunk_with(
    chunk: Chunk<'_>,
    source: &Arc<Source>,
    limits: &Limits,
    budget: &NodeBudget,
    decoding: Decoding,
    sink: &mut dyn FnMut(Entry),
) -> usize {
    let mut text = std::borrow::Cow::Borrowed(chunk.text);
    let mut document = 0usize;
    let mut offset = 0usize;
    let mut line_offset = chunk.first_line;
    let mut padded = 0usize;
    // Entries of the current pass already delivered before a retry of the same text.
    let mut delivered = 0usize;
    // Columns added at the start of lines by `relax_quoted_indentation`.
    let mut shifts = yaml::ColumnShifts::new();
    while !budget.is_spent() {
        let mut fatal: Option<DecodeError> = None;
        let mut seen = 0usize;
        let charged = yaml::decode(
            &text[offset..],
            line_offset,
            &shifts,
            limits,
            budget,
            decoding,
            &mut |item| match item {
                Item::Error(err) if err.fatal => fatal = Some(err),
                item => {
                    seen += 1;
                    if seen > delivered {
                        deliver(item, source, document, sink);
                        document += 1;
                    }
                }
            },
        );
        delivered = delivered.max(seen);
        let Some(err) = fatal.filter(|_| !budget.is_spent()) else {
            break;
        };
        let relative = Pos::new(err.pos.line.saturating_sub(chunk.first_line), err.pos.col);
        let fixed =
            relax_flow_indentation(&text, relative, &err.message, &mut padded).or_else(|| {
                let at = (relative, chunk.first_line);
                relax_quoted_indentation(&text, at, &err.message, &mut padded, &mut shifts)
            });
        if let Some(fixed) = fixed {
            // The pass is decoded again: its nodes are charged again.
            budget.release(charged);
            text = std::borrow::Cow::Owned(fixed);
            continue;
        }
        let min_line = (relative.line as usize).max((line_offset - chunk.first_line) as usize + 2);
        sink(Entry::Error(LoadError {
            file: source.path.clone(),
            pos: err.pos,
            kind: LoadErrorKind::Syntax,
            message: err.message,
        }));
        document += 1;
        delivered = 0;
        // Resume at the next document marker at or after the error, past the pass's start.
        match next_document_marker(&text, min_line) {
            Some((byte, marker_line)) => {
                offset = byte;
                line_offset = chunk.first_line + marker_line as u32 - 1;
            }
            None => break,
        }
    }
    document
}

fn deliver(item: Item, source: &Arc<Source>, document: usize, sink: &mut dyn FnMut(Entry)) {
    match item {
        Item::Document(doc) => add_document(sink, source, document, *doc),
        Item::Error(err) => sink(Entry::Error(LoadError {
            file: source.path.clone(),
            pos: err.pos,
            kind: LoadErrorKind::Limit,
            message: err.message,
        })),
    }
}

/// Inside a flow collection (`[...]`, `{...}`), go-yaml (like libyaml) neither checks the
/// indentation of lines nor rejects tabs in their leading white space, so the API server accepts a
/// closing `]` less indented than its key, or a tab-indented list item. The YAML parser rejects
/// both. When the error is on such a line inside a flow collection, rewrite that line (tabs to
/// spaces, or one more column of indentation) and parse again: at most 64 times per file, and
/// only that line's columns change.
fn relax_flow_indentation(
    text: &str,
    pos: Pos,
    message: &str,
    padded: &mut usize,
) -> Option<String> {
    let tab = message.contains("tabs disallowed");
    if !(tab || message.ends_with("invalid indentation")) || *padded >= 64 || pos.line == 0 {
        return None;
    }
    let line_start = text
        .split_inclusive('\n')
        .take(pos.line as usize - 1)
        .map(str::len)
        .sum::<usize>();
    if !in_flow_collection(&text[..line_start]) {
        return None;
    }
    let line = text[line_start..].split_inclusive('\n').next()?;
    let body = line.trim_start_matches([' ', '\t']);
    let lead = &line[..line.len() - body.len()];
    let new_lead = if tab {
        if !lead.contains('\t') {
            return None;
        }
        lead.replace('\t', " ")
    } else {
        format!(" {lead}")
    };
    *padded += 1;
    let mut fixed = String::with_capacity(text.len() + 1);
    fixed.push_str(&text[..line_start]);
    fixed.push_str(&new_lead);
    fixed.push_str(&text[line_start + lead.len()..]);
    Some(fixed)
}

/// go-yaml (like libyaml and PyYAML) does not check the indentation of the continuation lines
/// of a quoted scalar, so the API server accepts
///
/// ```yaml
/// spec:
///   description: "a long text
///   that goes on"
/// ```
///
/// which the YAML 1.2 parser rejects (the lines after the first must be indented more than the
/// key). The leading white space of those lines is not part of the value (line folding drops
/// it), so indenting them as far as the opening quote changes nothing but the parser's verdict:
/// rewrite the scalar's continuation lines that way and parse again (at most 64 times per file,
/// shared with [`relax_flow_indentation`]). The spaces added are recorded in `shifts`, so that
/// positions on those lines (after the closing quote) stay those of the original text. A
/// document marker inside the scalar, or a scalar that never ends, stays an error, as in
/// go-yaml.
///
/// `at` is the scalar's opening quote (line relative to the chunk, column in the original text)
/// and the number of lines of the stream before the chunk.
fn relax_quoted_indentation(
    text: &str,
    (pos, first_line): (Pos, u32),
    message: &str,
    padded: &mut usize,
    shifts: &mut yaml::ColumnShifts,
) -> Option<String> {
    if !message.ends_with("invalid indentation in quoted scalar") || *padded >= 64 || pos.line == 0
    {
        return None;
    }
    let line_start = text
        .split_inclusive('\n')
        .take(pos.line as usize - 1)
        .map(str::len)
        .sum::<usize>();
    // The column of the quote in `text`, which may already have spaces added on this line.
    let added = shifts.get(&(first_line + pos.line)).copied().unwrap_or(0);
    let quote_col = (pos.col + added).checked_sub(1)? as usize;
    let (quote_at, quote) = text[line_start..]
        .char_indices()
        .take_while(|&(_, c)| c != '\n')
        .nth(quote_col)?;
    if quote != '"' && quote != '\'' {
        return None;
    }
    // Byte offsets of the starts of the continuation lines, up to the one with the closing quote.
    let mut lines = Vec::new();
    let body = &text[line_start + quote_at + 1..];
    let mut chars = body.char_indices();
    let base = line_start + quote_at + 1;
    let mut closed = false;
    while let Some((at, c)) = chars.next() {
        match c {
            '\n' => {
                let next = &body[at + 1..];
                if is_document_marker(next) || is_document_end(next) {
                    return None;
                }
                lines.push(base + at + 1);
            }
            '\\' if quote == '"' => {
                if let Some((at, '\n')) = chars.next() {
                    lines.push(base + at + 1);
                }
            }
            '\'' if quote == '\'' => {
                if body[at + 1..].starts_with('\'') {
                    chars.next();
                } else {
                    closed = true;
                    break;
                }
            }
            '"' if quote == '"' => {
                closed = true;
                break;
            }
            _ => {}
        }
    }
    if !closed {
        return None;
    }
    let mut fixed = String::with_capacity(text.len() + lines.len() * quote_col);
    let mut copied = 0;
    let first_number = pos.line;
    let mut changed = false;
    for (index, &start) in lines.iter().enumerate() {
        let spaces = text[start..].bytes().take_while(|&b| b == b' ').count();
        let Some(pad) = quote_col.checked_sub(spaces).filter(|&pad| pad > 0) else {
            continue;
        };
        fixed.push_str(&text[copied..start]);
        fixed.extend(std::iter::repeat_n(' ', pad));
        copied = start;
        changed = true;
        let line = first_line + first_number + index as u32 + 1;
        *shifts.entry(line).or_default() += pad as u32;
    }
    if !changed {
        return None;
    }
    fixed.push_str(&text[copied..]);
    *padded += 1;
    Some(fixed)
}

/// Whether `line` starts with a document end marker (`...` then a blank or the end).
fn is_document_end(line: &str) -> bool {
    line.strip_prefix("...")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Whether the end of `before` (text from the start of the stream) is inside an open flow
/// collection of the current document: brackets outside quotes and comments, counted from the
/// last document marker.
fn in_flow_collection(before: &str) -> bool {
    let doc_start = before
        .match_indices("\n---")
        .last()
        .map_or(0, |(i, _)| i + 1);
    let mut depth = 0i32;
    for line in before[doc_start..].lines() {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some(q) if c == q => {
                    if q == '\'' && chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some(_) => {}
                None => match c {
                    '#' if prev.is_whitespace() => break,
                    '"' | '\'' if depth > 0 || prev.is_whitespace() || prev == ':' => {
                        quote = Some(c)
                    }
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth = (depth - 1).max(0),
                    _ => {}
                },
            }
            prev = c;
        }
    }
    depth > 0
}

/// Byte offset and 1-based line of the first line numbered `min_line` or more that starts a new
/// document (`---`).
fn next_document_marker(text: &str, min_line: usize) -> Option<(usize, usize)> {
    let mut byte = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        if number >= min_line && is_document_marker(line) {
            return Some((byte, number));
        }
        byte += line.len();
    }
    None
}

fn add_document(
    sink: &mut dyn FnMut(Entry),
    source: &Arc<Source>,
    document: usize,
    doc: yaml::Document,
) {
    let yaml::Document {
        value,
        spans,
        duplicate_keys,
    } = doc;
    let Value::Object(map) = &value else {
        if !value.is_null() {
            sink(Entry::Skipped);
        }
        return;
    };
    let is_object = |m: &serde_json::Map<String, Value>| {
        matches!(m.get("apiVersion"), Some(Value::String(s)) if !s.is_empty())
            && matches!(m.get("kind"), Some(Value::String(s)) if !s.is_empty())
    };
    if !is_object(map) {
        sink(Entry::Skipped);
        return;
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_list = kind == "List" || (kind.ends_with("List") && map.get("items").is_some());
    if is_list {
        if let Some(Value::Array(_)) = map.get("items") {
            return add_list(sink, source, document, value, spans, duplicate_keys);
        }
    }
    push_object(
        sink,
        Object {
            source: source.clone(),
            document,
            item: None,
            value,
            spans,
            duplicate_keys,
        },
    );
}

/// Adds an object, with an error for every field whose type the API server would reject.
fn push_object(sink: &mut dyn FnMut(Entry), object: Object) {
    for mismatch in crate::views::type_mismatches(&object.value) {
        sink(Entry::Error(LoadError {
            file: object.source.path.clone(),
            pos: object.locate_value(&mismatch.pointer),
            kind: LoadErrorKind::Type,
            message: format!(
                "{}: expected {}, found {} ({} {})",
                crate::pointer::to_field_path(&mismatch.pointer),
                mismatch.expected,
                mismatch.found,
                object.kind(),
                object.name()
            ),
        }));
    }
    sink(Entry::Object(object));
}

fn add_list(
    sink: &mut dyn FnMut(Entry),
    source: &Arc<Source>,
    document: usize,
    value: Value,
    spans: SpanNode,
    duplicate_keys: Vec<crate::DuplicateKey>,
) {
    let Value::Object(mut map) = value else {
        return;
    };
    let list_kind = map
        .get("kind")
        .and_then(Value::as_str)
        .and_then(|k| k.strip_suffix("List"))
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let list_kind = list_kind.as_deref();
    let list_api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let items_index = map.keys().position(|k| k == "items").unwrap_or(0);
    let Some(Value::Array(items)) = map.remove("items") else {
        return;
    };
    let item_spans = spans
        .children
        .into_iter()
        .nth(items_index)
        .map(|n| n.children)
        .unwrap_or_default();
    let mut item_spans = item_spans.into_iter();
    for (index, item) in items.into_iter().enumerate() {
        let node = item_spans.next().unwrap_or_default();
        let prefix = format!("/items/{index}");
        let (item, node) = typed_item(item, node, list_kind, &list_api_version);
        let is_object = item.get("apiVersion").and_then(Value::as_str).is_some()
            && item.get("kind").and_then(Value::as_str).is_some();
        if !is_object {
            sink(Entry::Skipped);
            continue;
        }
        let duplicates = duplicate_keys
            .iter()
            .filter_map(|d| {
                let rest = d.pointer.strip_prefix(&prefix)?;
                (rest.is_empty() || rest.starts_with('/')).then(|| crate::DuplicateKey {
                    pointer: rest.to_owned(),
                    ..d.clone()
                })
            })
            .collect();
        push_object(
            sink,
            Object {
                source: source.clone(),
                document,
                item: Some(index),
                value: item,
                spans: node,
                duplicate_keys: duplicates,
            },
        );
    }
}

/// Decodes the first document of `text` as a plain value (for configuration files and other
/// inputs that are not Kubernetes objects). `Ok(None)` when the text holds no document.
pub fn decode_first_document(text: &str, limits: &Limits) -> Result<Option<Value>, LoadError> {
    let mut first: Option<Result<Value, LoadError>> = None;
    let budget = NodeBudget::file(limits);
    yaml::decode(
        text,
        0,
        &yaml::ColumnShifts::new(),
        limits,
        &budget,
        Decoding::FastPath,
        &mut |item| {
            if first.is_some() {
                return;
            }
            first = Some(match item {
                Item::Document(doc) => Ok(doc.value),
                Item::Error(err) => Err(LoadError {
                    file: String::new(),
                    pos: err.pos,
                    kind: LoadErrorKind::Syntax,
                    message: err.message,
                }),
            });
        },
    );
    if let Some(error) = budget.error("") {
        return Err(error);
    }
    first.transpose()
}

/// Items of a typed list (`PodList`, `NamespaceList`, as `kubectl get -o yaml` writes them) may
/// omit `kind` and `apiVersion`: they are the list's element kind and version.
fn typed_item(
    mut item: Value,
    mut node: SpanNode,
    list_kind: Option<&str>,
    list_api_version: &str,
) -> (Value, SpanNode) {
    if let (Some(kind), Value::Object(map)) = (list_kind, &mut item) {
        if !map.contains_key("kind") {
            map.insert("kind".to_owned(), Value::String(kind.to_owned()));
            node.children.push(SpanNode::leaf(node.key, node.value));
        }
        if !map.contains_key("apiVersion") && !list_api_version.is_empty() {
            map.insert(
                "apiVersion".to_owned(),
                Value::String(list_api_version.to_owned()),
            );
            node.children.push(SpanNode::leaf(node.key, node.value));
        }
    }
    (item, node)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cuts [`split_stream`] makes, found line by line.
    fn split_by_lines(text: &str, target: usize) -> Vec<Chunk<'_>> {
        if text.len() <= target || text.starts_with('%') || text.contains("\n%") {
            return vec![Chunk {
                text,
                first_line: 0,
            }];
        }
        let mut chunks = Vec::new();
        let (mut start, mut start_line) = (0usize, 0u32);
        let (mut byte, mut line) = (0usize, 0u32);
        for piece in text.split_inclusive('\n') {
            if byte - start >= target && is_document_marker(piece) {
                chunks.push(Chunk {
                    text: &text[start..byte],
                    first_line: start_line,
                });
                (start, start_line) = (byte, line);
            }
            byte += piece.len();
            line += 1;
        }
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
        chunks
    }

    #[test]
    fn split_stream_cuts_where_a_line_by_line_search_does() {
        let pieces = [
            "---\n",
            "--- \n",
            "---\t# c\n",
            "---\r\n",
            "----\n",
            "---x\n",
            " ---\n",
            "a: 1\n",
            "b: |\n  ---\n",
            "c: é\n",
            "\n",
            "---",
            "d: 2",
        ];
        // A fixed pseudo-random sequence of pieces, cut at every target size up to its length.
        let mut state = 7u32;
        for _ in 0..60 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                text.push_str(pieces[(state >> 16) as usize % pieces.len()]);
            }
            for target in 0..=text.len() + 1 {
                assert_eq!(
                    split_stream(&text, target),
                    split_by_lines(&text, target),
                    "{text:?} cut every {target} bytes"
                );
            }
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        }
    }
}
