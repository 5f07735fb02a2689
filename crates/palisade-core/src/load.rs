use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::limits::Limits;
use crate::object::{Object, Source};
use crate::pos::{Pos, SpanNode};
use crate::yaml::{self, Item};

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

/// Reads and decodes a file, enforcing the size limit before reading it.
pub fn load_path(path: &Path, display: &str, limits: &Limits) -> Loaded {
    let error = |kind, message: String| Loaded {
        errors: vec![LoadError {
            file: display.to_owned(),
            pos: Pos::new(1, 1),
            kind,
            message,
        }],
        ..Loaded::default()
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) => return error(LoadErrorKind::Io, format!("cannot read file: {err}")),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > limits.max_file_size {
        return error(LoadErrorKind::TooLarge, too_large(size, limits));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Read at most one byte past the limit: the file may grow while we read it.
    if let Err(err) = file.take(limits.max_file_size + 1).read_to_end(&mut bytes) {
        return error(LoadErrorKind::Io, format!("cannot read file: {err}"));
    }
    load_bytes(&bytes, display, limits)
}

fn too_large(size: u64, limits: &Limits) -> String {
    format!(
        "file is {size} bytes, over the limit of {} bytes; raise --max-file-size to scan it",
        limits.max_file_size
    )
}

/// Decodes bytes read from `display` (a path or `-`).
pub fn load_bytes(bytes: &[u8], display: &str, limits: &Limits) -> Loaded {
    let error = |pos, kind, message: String| Loaded {
        errors: vec![LoadError {
            file: display.to_owned(),
            pos,
            kind,
            message,
        }],
        ..Loaded::default()
    };
    if bytes.len() as u64 > limits.max_file_size {
        return error(
            Pos::new(1, 1),
            LoadErrorKind::TooLarge,
            too_large(bytes.len() as u64, limits),
        );
    }
    let head = &bytes[..bytes.len().min(8192)];
    if let Some(at) = head.iter().position(|&b| b == 0) {
        return error(
            position_of_byte(bytes, at),
            LoadErrorKind::Binary,
            "binary file (contains NUL bytes); not a YAML or JSON manifest".to_owned(),
        );
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            return error(
                position_of_byte(bytes, err.valid_up_to()),
                LoadErrorKind::Encoding,
                format!(
                    "invalid UTF-8 at byte {}; manifests must be UTF-8",
                    err.valid_up_to()
                ),
            )
        }
    };
    load_str(text, display, limits)
}

/// Line and column (in characters) of a byte offset, for errors found before decoding.
fn position_of_byte(bytes: &[u8], at: usize) -> Pos {
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

/// Decodes YAML or JSON text. A syntax error ends the document it occurs in; decoding resumes
/// at the next `---` document marker, so one broken document does not hide the others.
pub fn load_str(text: &str, display: &str, limits: &Limits) -> Loaded {
    let source = Source::new(display);
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Loaded::default();
    let mut document = 0usize;
    let mut offset = 0usize;
    let mut line_offset = 0u32;
    let mut saw_document = false;
    loop {
        let chunk = &text[offset..];
        let mut fatal_line = None;
        yaml::decode(chunk, line_offset, limits, &mut |item| match item {
            Item::Document(doc) => {
                saw_document = true;
                add_document(&mut out, &source, document, *doc);
                document += 1;
            }
            Item::Error(err) => {
                saw_document = true;
                if err.fatal {
                    fatal_line = Some(err.pos.line);
                }
                out.errors.push(LoadError {
                    file: display.to_owned(),
                    pos: err.pos,
                    kind: if err.fatal {
                        LoadErrorKind::Syntax
                    } else {
                        LoadErrorKind::Limit
                    },
                    message: err.message,
                });
                document += 1;
            }
        });
        let Some(line) = fatal_line else { break };
        // Resume after the next document marker that follows the error.
        match next_document_marker(text, line as usize) {
            Some((byte, marker_line)) => {
                offset = byte;
                line_offset = marker_line as u32 - 1;
            }
            None => break,
        }
    }
    if !saw_document || (out.objects.is_empty() && out.errors.is_empty() && out.skipped == 0) {
        if text.trim().is_empty() || !saw_document {
            out.errors.push(LoadError {
                file: display.to_owned(),
                pos: Pos::new(1, 1),
                kind: LoadErrorKind::Empty,
                message: "empty file: no Kubernetes objects".to_owned(),
            });
        }
    }
    out
}

/// Byte offset and 1-based line of the first line after `after_line` (1-based) that starts a
/// new document (`---`).
fn next_document_marker(text: &str, after_line: usize) -> Option<(usize, usize)> {
    let mut byte = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        if number > after_line {
            let trimmed = line.trim_end_matches(['\n', '\r']);
            if trimmed == "---" || trimmed.starts_with("--- ") || trimmed.starts_with("---\t") {
                return Some((byte, number));
            }
        }
        byte += line.len();
    }
    None
}

fn add_document(out: &mut Loaded, source: &Arc<Source>, document: usize, doc: yaml::Document) {
    let yaml::Document {
        value,
        spans,
        duplicate_keys,
        start,
    } = doc;
    let Value::Object(map) = &value else {
        if !value.is_null() {
            out.skipped += 1;
        }
        return;
    };
    let is_object = |m: &serde_json::Map<String, Value>| {
        matches!(m.get("apiVersion"), Some(Value::String(s)) if !s.is_empty())
            && matches!(m.get("kind"), Some(Value::String(s)) if !s.is_empty())
    };
    if !is_object(map) {
        out.skipped += 1;
        return;
    }
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_list = kind == "List" || (kind.ends_with("List") && map.get("items").is_some());
    if is_list {
        if let Some(Value::Array(_)) = map.get("items") {
            return add_list(out, source, document, value, spans, duplicate_keys);
        }
    }
    let _ = start;
    out.objects.push(Object {
        source: source.clone(),
        document,
        item: None,
        value,
        spans,
        duplicate_keys,
    });
}

fn add_list(
    out: &mut Loaded,
    source: &Arc<Source>,
    document: usize,
    value: Value,
    spans: SpanNode,
    duplicate_keys: Vec<crate::DuplicateKey>,
) {
    let Value::Object(mut map) = value else {
        return;
    };
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
        let is_object = item.get("apiVersion").and_then(Value::as_str).is_some()
            && item.get("kind").and_then(Value::as_str).is_some();
        if !is_object {
            out.skipped += 1;
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
        out.objects.push(Object {
            source: source.clone(),
            document,
            item: Some(index),
            value: item,
            spans: node,
            duplicate_keys: duplicates,
        });
    }
}
