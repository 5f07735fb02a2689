//! Applying fixes (JSON Patch operations on objects) to the manifest files the objects came
//! from, as text edits: comments, key order, quoting and the layout of every line the fix does
//! not concern stay as they were.
//!
//! Each operation becomes an in-place edit located with the loader's source positions: a
//! scalar replaced where it stands, a key added after the last entry of its mapping at the
//! indentation of its siblings, an entry or list item removed with its lines. After editing,
//! the new text is decoded again and must give exactly the patched objects (and leave every
//! other object alone); otherwise the file is refused rather than written wrong.

mod diff;
mod edit;
mod render;
mod text;
mod write;

use std::collections::{HashMap, VecDeque};

use palisade_core::patch::{self, PatchOp};
use palisade_core::{load_str, pointer, Limits, Loaded, Object};
use serde_json::Value;

pub use diff::unified_diff;
pub use write::{replace_file, replace_file_with};

use render::Style;
use text::Text;

/// The operations to apply to one object of a file: the object at `document` (its index in
/// the file) and, for objects inside a `List`, `item`.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectFix {
    pub document: usize,
    pub item: Option<usize>,
    /// JSON Patch operations, relative to the object, in order. Operations from separate
    /// fixes may overlap: an `add` of a mapping where an earlier operation already created
    /// one adds its keys to it.
    pub ops: Vec<PatchOp>,
}

/// Why a file's fixes were not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("no object at document {document}{}", item.map(|i| format!(" item {i}")).unwrap_or_default())]
    MissingObject {
        document: usize,
        item: Option<usize>,
    },
    #[error("cannot apply the fix at {path}: {reason}")]
    Patch { path: String, reason: String },
    #[error("cannot edit {path} in place: {reason}")]
    Edit { path: String, reason: String },
    #[error("the edited file would not decode to the fixed objects ({0}); it was left unchanged")]
    Verify(String),
    #[error("line {line} ends with a carriage return alone while other lines end with a line feed; convert the file to one kind of line ending")]
    MixedLineEndings { line: usize },
}

/// The result of [`fix_text`]: the new text, and for each fix (in the order given) whether
/// its changes hold in that text. A fix that a later one overrode (a `replace` of the same
/// field with another value) is not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedText {
    pub text: String,
    pub applied: Vec<bool>,
}

type Key = (usize, Option<usize>);

fn key_of(object: &Object) -> Key {
    (object.document, object.item)
}

/// Applies `fixes` to the manifest `text`, returning the new text and which fixes it holds.
///
/// Every operation is checked against the object as the earlier ones left it, written as a
/// text edit, and the result decoded again: it must hold exactly the patched objects, every
/// other object unchanged, and no new load error.
///
/// Lines may end with `\n`, `\r\n` or, throughout the file, a lone `\r` (which YAML reads as
/// a line break too); a file that mixes lone `\r` with `\n` is refused.
pub fn fix_text(text: &str, fixes: &[ObjectFix], limits: &Limits) -> Result<FixedText, FixError> {
    // The loader reads past a byte order mark; edit the text after it and put it back.
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        return fix_text(rest, fixes, limits).map(|fixed| FixedText {
            text: format!("\u{feff}{}", fixed.text),
            ..fixed
        });
    }
    if let Some(at) = lone_carriage_return(text) {
        if text.contains('\n') {
            return Err(FixError::MixedLineEndings {
                line: line_number(text, at),
            });
        }
        // Only `\r` ends lines: edit the text with `\n` instead, the same YAML line for line.
        let lf = text.replace('\r', "\n");
        return fix_text(&lf, fixes, limits).map(|fixed| FixedText {
            text: fixed.text.replace('\n', "\r"),
            ..fixed
        });
    }
    let original = load_str(text, "-", limits);
    let originals: HashMap<Key, &Value> = original
        .objects
        .iter()
        .map(|o| (key_of(o), &o.value))
        .collect();
    let mut expected: HashMap<Key, Value> = original
        .objects
        .iter()
        .map(|o| (key_of(o), o.value.clone()))
        .collect();
    // Operations per object, objects in the order they were first named.
    let mut pending: Vec<(Key, VecDeque<PatchOp>)> = Vec::new();
    for fix in fixes {
        let key = (fix.document, fix.item);
        let (Some(value), Some(original)) = (expected.get_mut(&key), originals.get(&key)) else {
            return Err(FixError::MissingObject {
                document: fix.document,
                item: fix.item,
            });
        };
        let mut ops = Vec::new();
        for op in &fix.ops {
            normalize(value, original, op, &mut ops)?;
        }
        match pending.iter_mut().find(|(k, _)| *k == key) {
            Some((_, queue)) => queue.extend(ops),
            None => pending.push((key, ops.into())),
        }
    }
    // Objects occupy separate parts of the text, and so do separate subtrees of one object:
    // each round performs every operation that touches no part of the text an earlier pending
    // operation touches, then decodes the text again for the next round.
    let mut current = text.to_owned();
    while pending.iter().any(|(_, queue)| !queue.is_empty()) {
        let mut round: Vec<(Key, PatchOp)> = Vec::new();
        for (key, queue) in &mut pending {
            let mut regions: Vec<Vec<String>> = Vec::new();
            let mut later = VecDeque::new();
            for op in queue.drain(..) {
                let region = region(&op);
                let free = regions.iter().all(|r| !nested(r, &region));
                regions.push(region);
                if free {
                    round.push((*key, op));
                } else {
                    later.push_back(op);
                }
            }
            *queue = later;
        }
        current = apply_round(&current, &round, limits)?;
    }
    verify(&original, &current, &expected, limits)?;
    // A fix holds when applying it again to the result would change nothing.
    let applied = fixes
        .iter()
        .map(|fix| {
            let key = (fix.document, fix.item);
            let (Some(fixed), Some(original)) = (expected.get(&key), originals.get(&key)) else {
                return false;
            };
            let mut probe = fixed.clone();
            let mut changes = Vec::new();
            fix.ops
                .iter()
                .all(|op| normalize(&mut probe, original, op, &mut changes).is_ok())
                && changes.is_empty()
        })
        .collect();
    Ok(FixedText {
        text: current,
        applied,
    })
}

/// The 1-based line holding byte `at`, with `\n`, `\r\n` and a lone `\r` each ending a line.
fn line_number(text: &str, at: usize) -> usize {
    let before = &text[..at];
    before.matches(['\r', '\n']).count() - before.matches("\r\n").count() + 1
}

/// Byte offset of the first `\r` not followed by `\n`.
fn lone_carriage_return(text: &str) -> Option<usize> {
    text.match_indices('\r')
        .map(|(at, _)| at)
        .find(|&at| text.as_bytes().get(at + 1) != Some(&b'\n'))
}

/// Rewrites `op` as operations that each change something, given that earlier operations
/// turned the object `original` into `value`, and applies them to `value`: see
/// [`patch::apply_merging`].
fn normalize(
    value: &mut Value,
    original: &Value,
    op: &PatchOp,
    out: &mut Vec<PatchOp>,
) -> Result<(), FixError> {
    patch::apply_merging(value, original, op, out).map_err(|err| FixError::Patch {
        path: err.path,
        reason: err.reason.to_owned(),
    })
}

/// The subtree whose text an operation may rewrite, as pointer tokens: the parent of the
/// field (the grandparent for a removal, which may leave the parent empty).
fn region(op: &PatchOp) -> Vec<String> {
    let mut tokens: Vec<String> = pointer::tokens(op.path()).map(|t| t.into_owned()).collect();
    let up = if matches!(op, PatchOp::Remove { .. }) {
        2
    } else {
        1
    };
    tokens.truncate(tokens.len().saturating_sub(up));
    tokens
}

/// Whether one subtree contains the other.
fn nested(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Performs operations on separate parts of the text.
fn apply_round(text: &str, round: &[(Key, PatchOp)], limits: &Limits) -> Result<String, FixError> {
    let loaded = load_str(text, "-", limits);
    let source = Text::new(text);
    let mut edits = Vec::new();
    for (key, op) in round {
        let object =
            loaded
                .objects
                .iter()
                .find(|o| key_of(o) == *key)
                .ok_or(FixError::MissingObject {
                    document: key.0,
                    item: key.1,
                })?;
        let style = style(&source, object);
        let found = edit::edits(&source, object, op, &style).map_err(|reason| FixError::Edit {
            path: op.path().to_owned(),
            reason,
        })?;
        edits.extend(found.into_iter().map(|e| (e, op.path())));
    }
    edits.sort_by_key(|(e, _)| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for (e, path) in &edits {
        if e.start < at || e.end < e.start || e.end > text.len() {
            return Err(FixError::Edit {
                path: (*path).to_owned(),
                reason: "overlapping edits".to_owned(),
            });
        }
        out.push_str(&text[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// The edited text must decode to the expected objects and nothing else.
fn verify(
    original: &Loaded,
    text: &str,
    expected: &HashMap<Key, Value>,
    limits: &Limits,
) -> Result<(), FixError> {
    let loaded = load_str(text, "-", limits);
    if loaded.errors.len() > original.errors.len() {
        let first = loaded
            .errors
            .iter()
            .find(|e| !original.errors.iter().any(|o| o.message == e.message))
            .or(loaded.errors.first())
            .map(|e| format!("{}: {}", e.pos, e.message))
            .unwrap_or_default();
        return Err(FixError::Verify(format!("new load error {first}")));
    }
    if loaded.objects.len() != original.objects.len() || loaded.skipped != original.skipped {
        return Err(FixError::Verify("the number of objects changed".to_owned()));
    }
    for object in &loaded.objects {
        let key = key_of(object);
        match expected.get(&key) {
            Some(value) if *value == object.value => {}
            Some(value) => {
                return Err(FixError::Verify(format!(
                    "document {}{}: {}",
                    key.0,
                    key.1.map(|i| format!(" item {i}")).unwrap_or_default(),
                    first_difference(value, &object.value)
                )))
            }
            None => {
                return Err(FixError::Verify(format!(
                    "document {} appeared",
                    object.document
                )))
            }
        }
    }
    Ok(())
}

/// A short description of where two values differ.
fn first_difference(expected: &Value, found: &Value) -> String {
    fn walk(path: String, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => {
                            if let Some(d) = walk(pointer::push(&path, k), v, w) {
                                return Some(d);
                            }
                        }
                        None => return Some(format!("{} is missing", pointer::push(&path, k))),
                    }
                }
                y.keys()
                    .find(|k| !x.contains_key(*k))
                    .map(|k| format!("{} is unexpected", pointer::push(&path, k)))
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (v, w))| walk(pointer::push_index(&path, i), v, w)),
            _ if a == b => None,
            _ => Some(format!("{path} is {b}, expected {a}")),
        }
    }
    walk(String::new(), expected, found).unwrap_or_else(|| "key order differs".to_owned())
}

/// The layout of new text, learned from the object: its indentation step, whether lists are
/// indented under their key, JSON or YAML, and its line ending.
fn style(text: &Text, object: &Object) -> Style {
    let root = text
        .offset(object.spans.value)
        .map(|at| text.skip_props(at, true));
    let json = root.is_some_and(|at| text.s.as_bytes().get(at) == Some(&b'{'));
    let mut step = None;
    let mut seq_indent = None;
    learn(
        text,
        &object.value,
        &object.spans,
        &mut step,
        &mut seq_indent,
    );
    let step = step.unwrap_or(2);
    Style {
        step,
        seq_indent: seq_indent.unwrap_or(step),
        json,
        newline: if text.s.contains("\r\n") {
            "\r\n"
        } else {
            "\n"
        },
    }
}

fn learn(
    text: &Text,
    value: &Value,
    span: &palisade_core::SpanNode,
    step: &mut Option<usize>,
    seq_indent: &mut Option<usize>,
) {
    if step.is_some() && seq_indent.is_some() {
        return;
    }
    let children: Vec<&Value> = match value {
        Value::Object(map) => map.values().collect(),
        Value::Array(items) => items.iter().collect(),
        _ => return,
    };
    for (child, node) in children.into_iter().zip(&span.children) {
        if value.is_object() {
            let first = node.children.first();
            match (child, first) {
                (Value::Object(m), Some(inner))
                    if !m.is_empty()
                        && inner.key.line > node.key.line
                        && step.is_none()
                        && inner.key.col > node.key.col =>
                {
                    *step = Some((inner.key.col - node.key.col) as usize);
                }
                (Value::Array(a), Some(inner))
                    if !a.is_empty() && inner.value.line > node.key.line =>
                {
                    let dash = text.offset(inner.value).and_then(|at| text.dash_before(at));
                    if let (None, Some(dash)) = (*seq_indent, dash) {
                        let col = text.col(dash);
                        let key = (node.key.col as usize).saturating_sub(1);
                        if col >= key {
                            *seq_indent = Some(col - key);
                        }
                    }
                }
                _ => {}
            }
        }
        learn(text, child, node, step, seq_indent);
    }
}
