//! Reading audit events as the API server writes them, one at a time.
//!
//! Accepted input: one `audit.k8s.io/v1` or `v1beta1` `Event` JSON object per line (the log
//! backend), `EventList` objects (one per line, or a whole pretty-printed document, as the
//! webhook backend posts them), JSON arrays of those, gzip-compressed files (by their magic
//! bytes) and stdin. Nothing holds more than one event (or one line, at most
//! [`MAX_EVENT_BYTES`]) in memory, except an `EventList` line, which is one line.
//!
//! Bad input gives an [`InputError`] with file and line; reading goes on with the next line.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::time::parse_rfc3339;

/// The largest event (or line) accepted: 3 MB, the API server's own request limit.
pub const MAX_EVENT_BYTES: usize = 3 * 1024 * 1024;

/// One audit event with its origin.
#[derive(Debug, Clone)]
pub struct Event {
    pub value: Value,
    /// `stageTimestamp`, in nanoseconds since the epoch.
    pub time_ns: i64,
    pub file: Arc<str>,
    pub line: u64,
}

impl Event {
    /// Checks that `value` is an audit event (`kind: Event` with a `stageTimestamp`).
    pub fn from_value(value: Value, file: Arc<str>, line: u64) -> Result<Event, InputError> {
        let error = |message: String| InputError {
            file: file.clone(),
            line,
            message,
        };
        if value.get("kind").and_then(Value::as_str) != Some("Event") {
            return Err(error(NOT_RECOGNIZED.to_owned()));
        }
        let Some(stamp) = value.get("stageTimestamp").and_then(Value::as_str) else {
            return Err(error("can't read stageTimestamp".to_owned()));
        };
        let Some(time_ns) = parse_rfc3339(stamp) else {
            return Err(error(format!("invalid stageTimestamp '{stamp}'")));
        };
        Ok(Event {
            value,
            time_ns,
            file,
            line,
        })
    }

    /// An event for unit tests: no checks, time 0.
    #[cfg(test)]
    pub(crate) fn for_test(value: Value) -> Event {
        Event {
            value,
            time_ns: 0,
            file: Arc::from("test"),
            line: 1,
        }
    }

    /// A string at a JSON pointer of the event.
    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        self.value.pointer(pointer).and_then(Value::as_str)
    }
}

/// The message of Falco's k8saudit plugin for JSON that is not an audit event.
pub const NOT_RECOGNIZED: &str = "data not recognized as a k8s audit event";

/// Bad input: a line or document that gave no event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct InputError {
    pub file: Arc<str>,
    pub line: u64,
    pub message: String,
}

/// What one input yields, in order.
pub enum Item {
    Event(Box<Event>),
    Error(InputError),
}

/// Opens `path` (`-` is stdin), decompressing gzip input.
pub fn open(path: &str) -> std::io::Result<Box<dyn BufRead + Send>> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(path)?)
    };
    Ok(maybe_gunzip(BufReader::with_capacity(256 * 1024, raw)))
}

/// Wraps a reader in a gzip decoder when it starts with gzip's magic bytes.
pub fn maybe_gunzip<R: BufRead + Send + 'static>(mut reader: R) -> Box<dyn BufRead + Send> {
    let gz = matches!(reader.fill_buf(), Ok(head) if head.starts_with(&[0x1f, 0x8b]));
    if gz {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    }
}

/// Reads every event of `reader` (named `file` in errors), calling `sink` for each event and
/// each error, in input order. Returns when the input ends or cannot be read any further.
pub fn read_events(reader: &mut dyn BufRead, file: &str, sink: &mut dyn FnMut(Item)) {
    let file: Arc<str> = Arc::from(file);
    let mut lines = LineReader::new(reader);
    let mut buf = Vec::new();
    loop {
        let line_no = lines.line + 1;
        match lines.next_line(&mut buf) {
            Ok(Line::End) => return,
            Ok(Line::TooLong(len)) => sink(Item::Error(InputError {
                file: file.clone(),
                line: line_no,
                message: format!(
                    "event of more than {len} bytes, over the limit of {MAX_EVENT_BYTES} bytes; skipped"
                ),
            })),
            Ok(Line::Text) => {
                let text = trim(&buf);
                if text.is_empty() {
                    continue;
                }
                let text = match std::str::from_utf8(text) {
                    Ok(t) => t,
                    Err(e) => {
                        sink(Item::Error(InputError {
                            file: file.clone(),
                            line: line_no,
                            message: format!(
                                "invalid UTF-8 at byte {} of the line; audit events are UTF-8 JSON",
                                e.valid_up_to()
                            ),
                        }));
                        continue;
                    }
                };
                match serde_json::from_str::<Value>(text) {
                    Ok(value) => dispatch(value, &file, line_no, sink),
                    Err(e) if e.is_eof() && line_no == 1 && text.starts_with(['{', '[']) => {
                        // A pretty-printed document: stream it as one.
                        let head = std::io::Cursor::new(std::mem::take(&mut buf));
                        let mut chained = head.chain(lines.into_inner());
                        read_document(&mut chained, &file, sink);
                        return;
                    }
                    Err(e) => sink(Item::Error(InputError {
                        file: file.clone(),
                        line: line_no,
                        message: json_message(&e, lines.at_eof_without_newline()),
                    })),
                }
            }
            Err(e) => {
                sink(Item::Error(InputError {
                    file: file.clone(),
                    line: line_no,
                    message: format!("cannot read input: {e}; the rest of the input is skipped"),
                }));
                return;
            }
        }
    }
}

fn json_message(e: &serde_json::Error, last_line_unterminated: bool) -> String {
    if e.is_eof() {
        if last_line_unterminated {
            return format!("truncated event at the end of the input: {e}");
        }
        return format!("truncated event (the line ends inside the JSON): {e}");
    }
    format!("not JSON: {e}")
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &b[start..end.max(start)]
}

/// An event, an `EventList`, or an array of them, already decoded.
fn dispatch(value: Value, file: &Arc<str>, line: u64, sink: &mut dyn FnMut(Item)) {
    match value {
        Value::Array(items) => {
            for item in items {
                dispatch(item, file, line, sink);
            }
        }
        Value::Object(mut map) if map.get("kind").and_then(Value::as_str) == Some("EventList") => {
            match map.remove("items") {
                Some(Value::Array(items)) => {
                    for item in items {
                        emit(item, file, line, sink);
                    }
                }
                _ => sink(Item::Error(InputError {
                    file: file.clone(),
                    line,
                    message: "EventList without items".to_owned(),
                })),
            }
        }
        other => emit(other, file, line, sink),
    }
}

fn emit(value: Value, file: &Arc<str>, line: u64, sink: &mut dyn FnMut(Item)) {
    match Event::from_value(value, file.clone(), line) {
        Ok(ev) => sink(Item::Event(Box::new(ev))),
        Err(e) => sink(Item::Error(e)),
    }
}

enum Line {
    Text,
    TooLong(usize),
    End,
}

/// Lines of at most [`MAX_EVENT_BYTES`]; a longer line is skipped without being kept.
struct LineReader<'r> {
    inner: &'r mut dyn BufRead,
    line: u64,
    unterminated: bool,
}

impl<'r> LineReader<'r> {
    fn new(inner: &'r mut dyn BufRead) -> Self {
        LineReader {
            inner,
            line: 0,
            unterminated: false,
        }
    }

    fn into_inner(self) -> &'r mut dyn BufRead {
        self.inner
    }

    fn at_eof_without_newline(&self) -> bool {
        self.unterminated
    }

    fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Line> {
        buf.clear();
        let mut total = 0usize;
        let mut too_long = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                if total == 0 {
                    return Ok(Line::End);
                }
                self.line += 1;
                self.unterminated = true;
                return Ok(if too_long {
                    Line::TooLong(total)
                } else {
                    Line::Text
                });
            }
            let (part, done) = match memchr_newline(chunk) {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            total += part.len();
            if !too_long {
                if total > MAX_EVENT_BYTES {
                    too_long = true;
                    buf.clear();
                    buf.shrink_to(64 * 1024);
                } else {
                    buf.extend_from_slice(part);
                }
            }
            let consumed = done.unwrap_or(chunk.len());
            self.inner.consume(consumed);
            if done.is_some() {
                self.line += 1;
                return Ok(if too_long {
                    Line::TooLong(total)
                } else {
                    Line::Text
                });
            }
        }
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Streams a whole JSON document: an `EventList` (its `items` decoded one at a time), an array,
/// or one event.
fn read_document(reader: &mut dyn Read, file: &Arc<str>, sink: &mut dyn FnMut(Item)) {
    let counted = CountLines {
        inner: reader,
        line: 1,
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    let result = DocSeed { file, sink }.deserialize(&mut de);
    if let Err(e) = result.and_then(|()| de.end()) {
        sink(Item::Error(InputError {
            file: file.clone(),
            line: e.line() as u64,
            message: json_message(&e, false),
        }));
    }
}

struct CountLines<'r> {
    inner: &'r mut dyn Read,
    line: u64,
}

impl Read for CountLines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.line += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        Ok(n)
    }
}

struct DocSeed<'s> {
    file: &'s Arc<str>,
    sink: &'s mut dyn FnMut(Item),
}

impl<'de> DeserializeSeed<'de> for DocSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an audit Event, an EventList or an array of them")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            dispatch(v, self.file, 1, self.sink);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Members before `items` are kept (they are small); `items` is streamed once the
        // document is known to be an EventList, else kept like any member.
        let mut members = serde_json::Map::new();
        let mut streamed = false;
        while let Some(key) = map.next_key::<String>()? {
            let is_list = members.get("kind").and_then(Value::as_str) == Some("EventList");
            if key == "items" && is_list {
                map.next_value_seed(ItemsSeed {
                    file: self.file,
                    sink: &mut *self.sink,
                })?;
                streamed = true;
            } else if streamed {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v = map.next_value::<Value>()?;
                members.insert(key, v);
            }
        }
        if !streamed {
            dispatch(Value::Object(members), self.file, 1, self.sink);
        }
        Ok(())
    }
}

struct ItemsSeed<'s> {
    file: &'s Arc<str>,
    sink: &'s mut dyn FnMut(Item),
}

impl<'de> DeserializeSeed<'de> for ItemsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the items of an EventList")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            emit(v, self.file, 1, self.sink);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn event_line(id: &str) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"{id}","stage":"ResponseComplete","stageTimestamp":"2024-01-01T00:00:00.5Z","verb":"get"}}"#
        )
    }

    fn read_all(bytes: Vec<u8>) -> (Vec<String>, Vec<String>) {
        let mut reader = maybe_gunzip(std::io::Cursor::new(bytes));
        let (mut events, mut errors) = (Vec::new(), Vec::new());
        read_events(&mut reader, "log", &mut |item| match item {
            Item::Event(e) => events.push(format!("{}@{}", e.str_at("/auditID").unwrap(), e.line)),
            Item::Error(e) => errors.push(e.to_string()),
        });
        (events, errors)
    }

    #[test]
    fn bad_lines_are_reported_and_the_rest_is_read() {
        let mut text = String::new();
        text.push_str(&event_line("a"));
        text.push_str("\nnot json\n");
        text.push_str(r#"{"kind": 0}"#);
        text.push('\n');
        text.push_str(&event_line("b"));
        text.push('\n');
        text.push_str(&format!(
            r#"{{"kind":"EventList","items":[{},{}]}}"#,
            event_line("c"),
            event_line("d")
        ));
        text.push_str("\n\n");
        text.push_str(&event_line("e")[..40]);
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"\n\xff\xfe\n");
        bytes.extend_from_slice(event_line("f").as_bytes());
        let (events, errors) = read_all(bytes);
        assert_eq!(events, ["a@1", "b@4", "c@5", "d@5", "f@9"]);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].starts_with("log:2: not JSON"), "{errors:?}");
        assert_eq!(errors[1], format!("log:3: {NOT_RECOGNIZED}"));
        assert!(
            errors[2].starts_with("log:7: truncated event"),
            "{errors:?}"
        );
        assert!(errors[3].starts_with("log:8: invalid UTF-8"), "{errors:?}");
    }

    #[test]
    fn oversized_lines_are_skipped_without_being_kept() {
        let mut text = format!("{}\n", event_line("a"));
        text.push_str(&"x".repeat(MAX_EVENT_BYTES + 10));
        text.push('\n');
        text.push_str(&event_line("b"));
        let (events, errors) = read_all(text.into_bytes());
        assert_eq!(events, ["a@1", "b@3"]);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("log:2: event of more than"),
            "{errors:?}"
        );
    }

    #[test]
    fn gzip_and_corrupt_gzip() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for id in ["a", "b"] {
            writeln!(gz, "{}", event_line(id)).unwrap();
        }
        let bytes = gz.finish().unwrap();
        let (events, errors) = read_all(bytes.clone());
        assert_eq!(events, ["a@1", "b@2"]);
        assert!(errors.is_empty());
        let mut corrupt = bytes.clone();
        let mid = corrupt.len() / 2;
        corrupt.truncate(mid);
        corrupt.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let (_, errors) = read_all(corrupt);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("cannot read input"), "{errors:?}");
    }

    #[test]
    fn a_pretty_printed_event_list_is_streamed() {
        let doc = format!(
            "{{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n  \"items\": [\n{},\n{}\n  ]\n}}\n",
            event_line("a"),
            event_line("b")
        );
        let (events, errors) = read_all(doc.into_bytes());
        assert_eq!(events, ["a@1", "b@1"]);
        assert!(errors.is_empty(), "{errors:?}");
        let broken = "{\n  \"kind\": \"EventList\",\n  \"items\": [\n {\"kind\": \"Event\"\n";
        let (events, errors) = read_all(broken.as_bytes().to_vec());
        assert!(events.is_empty());
        assert!(errors.iter().any(|e| e.starts_with("log:")), "{errors:?}");
    }
}
