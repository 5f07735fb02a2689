//! Reading audit events as the API server writes them.
//!
//! Accepted input: one `audit.k8s.io/v1` or `v1beta1` `Event` JSON object per line (the log
//! backend), `EventList` objects (one per line, or a whole pretty-printed document, as the
//! webhook backend posts them), JSON arrays of those, gzip-compressed files (by their magic
//! bytes) and stdin. [`read_events`] hands over one event at a time; [`read_batches`] hands over
//! batches of lines parsed on rayon's threads, in input order. Nothing holds more than one batch
//! of lines (each line at most [`MAX_EVENT_BYTES`]) in memory.
//!
//! An event read from a line is not decoded into a `serde_json::Value`: the line is scanned once
//! (validated, and split into its top-level members), and a member is decoded only when something
//! reads it; a string member without escapes is read straight from the line. So a rule that reads
//! `verb` and `objectRef` never pays for the `requestObject` of a large create.
//!
//! Bad input gives an [`InputError`] with file and line; reading goes on with the next line.

use std::borrow::Cow;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::scan::{Slot, KIDS, OWNED_KEY, PLAIN};

/// A member of an event: where its key and value are in the text (its decoded value is in
/// `Event::values`).
type Member = Slot;
use crate::time::parse_rfc3339;

/// The largest event (or line) accepted: 3 MB, the API server's own request limit.
pub const MAX_EVENT_BYTES: usize = 3 * 1024 * 1024;

/// The text of a batch of lines, shared by its events. An `Arc<String>` rather than an
/// `Arc<str>`: the batch's buffer is moved in, not copied, and the reader takes it back for the
/// next batch once every event of the batch is dropped.
type Text = Arc<String>;

/// One audit event with its origin: its members, each decoded on first use.
#[derive(Debug, Clone)]
pub struct Event {
    /// The JSON text the members' spans point into: the batch of lines the event was read with
    /// (empty for an event built from a `Value`).
    text: Text,
    /// The members of the top-level object (`members[top..top + ntop]`) and of the objects
    /// nested in it through objects, each object's members contiguous.
    members: Vec<Member>,
    /// The keys that are not spans of the text ([`OWNED_KEY`]).
    keys: Vec<Box<str>>,
    /// The members' values decoded, by the member's place in `members` (made on the first
    /// decoding: most events decode nothing).
    values: OnceLock<Box<[OnceLock<Box<Value>>]>>,
    top: u32,
    ntop: u32,
    /// Where the members that rules read most are in the top-level members (by [`known`]'s
    /// number; `ABSENT` when the event has none), so that reading them is not a search.
    index: Option<[u16; KNOWN]>,
    /// `stageTimestamp`, in nanoseconds since the epoch.
    pub time_ns: i64,
    /// `responseStatus.code` ([`Event::code`]).
    code: Option<u64>,
    pub file: Arc<str>,
    pub line: u64,
}

/// Where a path of member names leads: a member (not decoded yet), or into a decoded value.
enum Node<'s> {
    Member(&'s Member),
    Value(&'s Value),
}

/// fastjson's `Get`: an object member, or an array element by decimal index.
fn get_key<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    }
}

/// What the first scan of a line found.
enum Top {
    /// A JSON object: its members, as spans of the text.
    Object(Vec<Member>, Vec<Box<str>>),
    /// Anything else (an array, a scalar): decoded as a `Value` instead.
    Other,
}

impl Event {
    /// Checks that `value` is an audit event (`kind: Event` with a `stageTimestamp`).
    pub fn from_value(value: Value, file: Arc<str>, line: u64) -> Result<Event, InputError> {
        Event::checked(Event::decoded_event(value, file, line))
    }

    /// An event of a decoded value: every member's value already decoded.
    fn decoded_event(value: Value, file: Arc<str>, line: u64) -> Event {
        let (members, keys, values) = decoded_members(value);
        let event = Event::new(Text::default(), members, keys, None, file, line);
        let _ = event.values.set(values);
        event
    }

    fn checked(mut event: Event) -> Result<Event, InputError> {
        let line = event.line;
        let error = |event: &Event, message: String| InputError {
            file: event.file.clone(),
            line,
            message,
        };
        if event.str("kind") != Some("Event") {
            return Err(error(&event, NOT_RECOGNIZED.to_owned()));
        }
        let Some(stamp) = event.str("stageTimestamp") else {
            return Err(error(&event, "can't read stageTimestamp".to_owned()));
        };
        let Some(time_ns) = parse_rfc3339(stamp) else {
            return Err(error(&event, format!("invalid stageTimestamp '{stamp}'")));
        };
        event.time_ns = time_ns;
        // The code is read for every event in log order (the 401/403 windows): it is read
        // here, on the thread that parses the line, and kept.
        event.code = event.u64_path(&["responseStatus", "code"]);
        Ok(event)
    }

    /// `top`: where the top-level members are in `members` (all of them when `None`).
    fn new(
        text: Text,
        members: Vec<Member>,
        keys: Vec<Box<str>>,
        top: Option<(u32, u32)>,
        file: Arc<str>,
        line: u64,
    ) -> Event {
        let (top, ntop) = top.unwrap_or((0, members.len() as u32));
        let mut event = Event {
            text,
            members,
            keys,
            values: OnceLock::new(),
            top,
            ntop,
            index: None,
            time_ns: 0,
            code: None,
            file,
            line,
        };
        event.index = index(&event);
        event
    }

    /// An event for unit tests: no checks, time 0.
    #[cfg(test)]
    pub(crate) fn for_test(value: Value) -> Event {
        let mut event = Event::decoded_event(value, Arc::from("test"), 1);
        event.code = event.u64_path(&["responseStatus", "code"]);
        event
    }

    /// `responseStatus.code`, when the event records one as a non-negative integer (read once,
    /// when the event was read).
    pub fn code(&self) -> Option<u64> {
        self.code
    }

    /// The top-level members.
    fn top(&self) -> &[Member] {
        &self.members[self.top as usize..(self.top + self.ntop) as usize]
    }

    /// The top-level member `key` (the last one, as a JSON decoder keeps it, if the key repeats).
    fn member(&self, key: &str) -> Option<&Member> {
        match (self.index, known(key)) {
            (Some(index), Some(k)) => self.top().get(usize::from(index[k])),
            _ => self.find(self.top(), key),
        }
    }

    /// The member `key` of `members` (the last one, as a JSON decoder keeps it, if the key
    /// repeats). This runs for every field that every rule reads: the lengths are compared
    /// first.
    fn find<'m>(&self, members: &'m [Member], key: &str) -> Option<&'m Member> {
        let wanted = key.as_bytes();
        members
            .iter()
            .rev()
            .find(|m| self.key_len(m) == wanted.len() && self.key_of(m).as_bytes() == wanted)
    }

    fn key_len(&self, m: &Member) -> usize {
        if m.flags & OWNED_KEY != 0 {
            self.keys.get(m.key_start as usize).map_or(0, |k| k.len())
        } else {
            (m.key_end - m.key_start) as usize
        }
    }

    fn key_of<'s>(&'s self, m: &'s Member) -> &'s str {
        m.key(&self.text, &self.keys)
    }

    fn raw<'s>(&'s self, m: &'s Member) -> &'s str {
        &self.text[m.start as usize..m.end as usize]
    }

    /// The place of `m` in `members` (`m` is one of them).
    fn place(&self, m: &Member) -> usize {
        let at = std::ptr::from_ref(m) as usize - self.members.as_ptr() as usize;
        at / std::mem::size_of::<Member>()
    }

    /// The member's value, when something decoded it already.
    fn value_of(&self, m: &Member) -> Option<&Value> {
        let values = self.values.get()?;
        values.get(self.place(m))?.get().map(|v| &**v)
    }

    fn decoded<'s>(&'s self, m: &'s Member) -> &'s Value {
        let values = self.values.get_or_init(|| {
            std::iter::repeat_with(OnceLock::new)
                .take(self.members.len())
                .collect()
        });
        match values.get(self.place(m)) {
            Some(slot) => slot
                .get_or_init(|| Box::new(serde_json::from_str(self.raw(m)).unwrap_or(Value::Null))),
            None => &Value::Null,
        }
    }

    /// The members of an object member, recorded when the line was scanned; `None` when it is
    /// not an object or they were not recorded (then the value is decoded instead).
    fn subs<'s>(&'s self, m: &'s Member) -> Option<&'s [Member]> {
        if m.flags & KIDS == 0 {
            return None;
        }
        let first = m.kids as usize;
        self.members.get(first..first + m.nkids as usize)
    }

    /// Follows member names through objects without decoding them; decodes where the path meets
    /// something else (an array is indexed by a decimal key).
    fn node(&self, keys: &[&str]) -> Option<Node<'_>> {
        let (first, rest) = keys.split_first()?;
        let mut m = self.member(first)?;
        for (i, k) in rest.iter().enumerate() {
            match self.subs(m) {
                Some(subs) => m = self.find(subs, k)?,
                None => {
                    let v = self.decoded(m);
                    return rest[i..]
                        .iter()
                        .try_fold(v, |v, k| get_key(v, k))
                        .map(Node::Value);
                }
            }
        }
        Some(Node::Member(m))
    }

    /// A member's string without decoding it, when it is a string without escapes.
    fn plain<'s>(&'s self, m: &'s Member) -> Option<&'s str> {
        if m.flags & PLAIN == 0 {
            return None;
        }
        self.text.get(m.start as usize + 1..m.end as usize - 1)
    }

    /// Whether the event has a top-level member `key` (whatever its value, `null` included).
    pub fn has(&self, key: &str) -> bool {
        self.member(key).is_some()
    }

    /// Whether the event has a member at a path of member names (whatever its value, `null`
    /// included), found without decoding the objects on the way.
    pub fn has_path(&self, keys: &[&str]) -> bool {
        self.node(keys).is_some()
    }

    /// The top-level member `key`, decoded (once) on first use.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.member(key).map(|m| self.decoded(m))
    }

    /// The top-level member `key` as a value of the caller's own: decoded from the line and not
    /// kept in the event (or copied, when something decoded it already). For a caller that
    /// changes the value: [`Event::get`] and a clone would decode it and then copy it.
    pub fn get_owned(&self, key: &str) -> Option<Value> {
        let m = self.member(key)?;
        Some(match self.value_of(m) {
            Some(v) => Value::clone(v),
            None => serde_json::from_str(self.raw(m)).unwrap_or(Value::Null),
        })
    }

    /// The top-level member `key` when it is a string.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.str_path(&[key])
    }

    /// The top-level member `key` as Falco's plugins render values: a string as it is, anything
    /// else as compact JSON.
    pub fn string(&self, key: &str) -> Option<Cow<'_, str>> {
        self.string_path(&[key])
    }

    /// The value at a path of member names (an array is indexed by a decimal key). Decodes only
    /// the value found, not the objects on the way.
    pub fn at(&self, keys: &[&str]) -> Option<&Value> {
        match self.node(keys)? {
            Node::Member(m) => Some(self.decoded(m)),
            Node::Value(v) => Some(v),
        }
    }

    /// A string at a path of member names; read from the line without decoding when it has no
    /// escapes.
    pub fn str_path(&self, keys: &[&str]) -> Option<&str> {
        match self.node(keys)? {
            Node::Member(m) => self.plain(m).or_else(|| self.decoded(m).as_str()),
            Node::Value(v) => v.as_str(),
        }
    }

    /// A non-negative integer at a path of member names; read from the line without decoding
    /// when it is written as plain digits.
    pub fn u64_path(&self, keys: &[&str]) -> Option<u64> {
        match self.node(keys)? {
            Node::Member(m) if self.value_of(m).is_none() => {
                let raw = self.raw(m);
                if !raw.is_empty() && raw.len() < 20 && raw.bytes().all(|b| b.is_ascii_digit()) {
                    raw.parse().ok()
                } else {
                    self.decoded(m).as_u64()
                }
            }
            Node::Member(m) => self.decoded(m).as_u64(),
            Node::Value(v) => v.as_u64(),
        }
    }

    /// The value at a path of member names as Falco's plugins render values: a string as it is,
    /// anything else as compact JSON.
    pub fn string_path(&self, keys: &[&str]) -> Option<Cow<'_, str>> {
        let v = match self.node(keys)? {
            Node::Member(m) => match self.plain(m) {
                Some(s) => return Some(Cow::Borrowed(s)),
                None => self.decoded(m),
            },
            Node::Value(v) => v,
        };
        Some(crate::fields::as_string(v))
    }

    /// Follows `keys` through objects as far as they go without decoding, and gives the value
    /// reached (decoded) with the number of keys used: the rest is for the caller to walk (over
    /// arrays). Stops before an empty key.
    pub fn walk(&self, keys: &[&str]) -> Option<(&Value, usize)> {
        let (first, rest) = keys.split_first()?;
        let mut m = self.member(first)?;
        let mut used = 1;
        for k in rest {
            if k.is_empty() {
                break;
            }
            match self.subs(m) {
                Some(subs) => m = self.find(subs, k)?,
                None => break,
            }
            used += 1;
        }
        Some((self.decoded(m), used))
    }

    /// A string at a JSON pointer of the event.
    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        let rest = pointer.strip_prefix('/')?;
        let tokens: Vec<Cow<'_, str>> = rest.split('/').map(unescape_token).collect();
        let keys: Vec<&str> = tokens.iter().map(|t| t.as_ref()).collect();
        self.str_path(&keys)
    }

    /// The whole event as a `Value` (decodes every member: for `json.obj` and the like).
    pub fn to_value(&self) -> Value {
        let mut map = serde_json::Map::new();
        for m in self.top() {
            map.insert(self.key_of(m).to_owned(), self.decoded(m).clone());
        }
        Value::Object(map)
    }

    /// Scans `text[start..end]` (one line of the log) into an event, or says what else it is.
    fn scan(
        text: &Text,
        start: usize,
        end: usize,
        file: &Arc<str>,
        line: u64,
    ) -> Result<Scanned, serde_json::Error> {
        // Whether the last `kind` member is the string `EventList`, as written.
        let is_list = |members: &[Member], keys: &[Box<str>]| {
            members
                .iter()
                .rev()
                .find(|m| m.key(text, keys) == "kind")
                .map(|m| &text[m.start as usize..m.end as usize])
                == Some("\"EventList\"")
        };
        // The one pass over the line; what it does not take goes to serde_json as before.
        if let Some(scanned) = crate::scan::scan(&text[start..end], start) {
            let (top, ntop) = (scanned.top, scanned.ntop);
            let members = scanned.slots;
            let tops = &members[top as usize..(top + ntop) as usize];
            if is_list(tops, &scanned.keys) {
                return Ok(Scanned::Other);
            }
            return Ok(Scanned::Event(Event::checked(Event::new(
                text.clone(),
                members,
                scanned.keys,
                Some((top, ntop)),
                file.clone(),
                line,
            ))));
        }
        let mut de = serde_json::Deserializer::from_str(&text[start..end]);
        let base = text.as_ptr() as usize;
        let top = TopSeed { base }.deserialize(&mut de)?;
        de.end()?;
        Ok(match top {
            Top::Object(members, keys) => {
                if is_list(&members, &keys) {
                    Scanned::Other
                } else {
                    Scanned::Event(Event::checked(Event::new(
                        text.clone(),
                        members,
                        keys,
                        None,
                        file.clone(),
                        line,
                    )))
                }
            }
            Top::Other => Scanned::Other,
        })
    }
}

/// The number of [`known`] member names.
const KNOWN: usize = 16;
const ABSENT: u16 = u16::MAX;

/// The top-level members of an audit event that rules read, numbered.
fn known(key: &str) -> Option<usize> {
    Some(match key {
        "kind" => 0,
        "apiVersion" => 1,
        "level" => 2,
        "auditID" => 3,
        "stage" => 4,
        "requestURI" => 5,
        "verb" => 6,
        "user" => 7,
        "sourceIPs" => 8,
        "userAgent" => 9,
        "objectRef" => 10,
        "responseStatus" => 11,
        "requestObject" => 12,
        "responseObject" => 13,
        "stageTimestamp" => 14,
        "annotations" => 15,
        _ => return None,
    })
}

/// Where the [`known`] members are among the top-level ones (the last one of a repeated key, as
/// [`Event::find`] gives it); `None` for an event too large to be indexed with `u16`s.
fn index(event: &Event) -> Option<[u16; KNOWN]> {
    let members = event.top();
    if members.len() >= usize::from(ABSENT) {
        return None;
    }
    let mut index = [ABSENT; KNOWN];
    for (i, m) in members.iter().enumerate() {
        if let Some(k) = known(event.key_of(m)) {
            index[k] = i as u16;
        }
    }
    Some(index)
}

/// The members of an object already decoded, their keys, and their values.
type Decoded = (Vec<Member>, Vec<Box<str>>, Box<[OnceLock<Box<Value>>]>);

/// The members of an object already decoded, their keys, and their values.
fn decoded_members(value: Value) -> Decoded {
    let Value::Object(map) = value else {
        return (Vec::new(), Vec::new(), Box::default());
    };
    let mut keys = Vec::with_capacity(map.len());
    let mut values = Vec::with_capacity(map.len());
    let mut members = Vec::with_capacity(map.len());
    for (k, v) in map {
        members.push(Member {
            key_start: keys.len() as u32,
            flags: OWNED_KEY,
            ..Slot::default()
        });
        keys.push(k.into_boxed_str());
        values.push(OnceLock::from(Box::new(v)));
    }
    (members, keys, values.into_boxed_slice())
}

enum Scanned {
    Event(Result<Event, InputError>),
    /// Not a single event (an `EventList`, an array, a scalar): decode it whole.
    Other,
}

fn unescape_token(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Scans a JSON document's top level: an object's members as spans of the text.
struct TopSeed {
    base: usize,
}

impl<'de> DeserializeSeed<'de> for TopSeed {
    type Value = Top;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Top, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let (mut members, mut keys) = (Vec::with_capacity(24), Vec::new());
        let span = |s: &str| {
            let start = s.as_ptr() as usize - self.base;
            (start as u32, (start + s.len()) as u32)
        };
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let raw: &'de RawValue = map.next_value()?;
            let (start, end) = span(raw.get());
            let text = raw.get();
            let plain = text.len() >= 2
                && text.starts_with('"')
                && text.ends_with('"')
                && !text.contains('\\');
            let mut slot = Slot {
                start,
                end,
                flags: if plain { PLAIN } else { 0 },
                ..Slot::default()
            };
            match key {
                Cow::Borrowed(k) => (slot.key_start, slot.key_end) = span(k),
                Cow::Owned(k) => {
                    slot.key_start = keys.len() as u32;
                    slot.flags |= OWNED_KEY;
                    keys.push(k.into_boxed_str());
                }
            }
            members.push(slot);
        }
        Ok(Top::Object(members, keys))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_unit<E>(self) -> Result<Top, E> {
        Ok(Top::Other)
    }
}

/// A member name, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
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
/// each error, in input order, as soon as its line is read (for a growing log). Returns when the
/// input ends or cannot be read any further.
pub fn read_events(reader: &mut dyn BufRead, file: &str, sink: &mut dyn FnMut(Item)) {
    read_lines(reader, file, 1, &mut |items: Vec<Item>| {
        items.into_iter().for_each(&mut *sink)
    });
}

/// The lines of a batch of [`read_batches`]: at most this many, and at most [`BATCH_BYTES`].
/// Small enough that a batch's lines and events stay in a core's cache between their parse and
/// their evaluation (4,096 lines took a fifth more CPU time).
pub const BATCH_LINES: usize = 512;
/// The bytes of a batch of [`read_batches`], beyond which the batch is handed over.
pub const BATCH_BYTES: usize = 1024 * 1024;

/// Like [`read_events`], but hands over the events and errors of up to [`BATCH_LINES`] lines at
/// a time, in input order, the lines of a batch parsed in parallel on rayon's threads.
///
/// The next batch is read (and parsed) on a thread of its own while `sink`, on the calling
/// thread, works on the current one: at most two batches are in flight, the one `sink` holds and
/// the one read ahead, which waits until `sink` returns.
pub fn read_batches(
    reader: &mut (dyn BufRead + Send),
    file: &str,
    sink: &mut dyn FnMut(Vec<Item>),
) {
    read_batches_of(BATCH_LINES, reader, file, sink);
}

/// [`read_batches`] with batches of at most `lines` lines (for measuring other sizes).
pub fn read_batches_of(
    lines: usize,
    reader: &mut (dyn BufRead + Send),
    file: &str,
    sink: &mut dyn FnMut(Vec<Item>),
) {
    let (ahead, batches) = std::sync::mpsc::sync_channel::<Vec<Item>>(0);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            read_lines(reader, file, lines.max(2), &mut |items| {
                // This fails only when the sink panicked: the panic is raised once reading ends.
                let _ = ahead.send(items);
            });
        });
        for items in batches {
            sink(items);
        }
    });
}

/// A line of a batch: its span in the batch's text.
enum Pending {
    /// A line, and whether it is the last line, without a newline.
    Text {
        line: u64,
        start: usize,
        end: usize,
        unterminated: bool,
    },
    TooLong {
        line: u64,
        len: usize,
    },
}

fn read_lines(reader: &mut dyn BufRead, file: &str, batch: usize, sink: &mut dyn FnMut(Vec<Item>)) {
    let file: Arc<str> = Arc::from(file);
    let mut lines = LineReader::new(reader);
    // The batch's lines, one after the other: one allocation per batch, shared by its events.
    let capacity = if batch > 1 { BATCH_BYTES / 2 } else { 0 };
    let mut chunk: Vec<u8> = Vec::with_capacity(capacity);
    let mut pending: Vec<Pending> = Vec::new();
    // The text of the batch before, still held by a sink that works on it while the next batch
    // is read ([`read_batches`]): its buffer is taken back after the next batch is handed over.
    let mut spare: Option<Text> = None;
    loop {
        let line_no = lines.line + 1;
        let start = chunk.len();
        match lines.next_line(&mut chunk) {
            Ok(Line::End) => break,
            Ok(Line::TooLong(len)) => {
                chunk.truncate(start);
                pending.push(Pending::TooLong { line: line_no, len });
            }
            Ok(Line::Text) => {
                if trim(&chunk[start..]).is_empty() {
                    chunk.truncate(start);
                    continue;
                }
                let unterminated = lines.at_eof_without_newline();
                pending.push(Pending::Text {
                    line: line_no,
                    start,
                    end: chunk.len(),
                    unterminated,
                });
                if line_no == 1 {
                    // The first line alone: it may begin a pretty-printed document.
                    let head = std::mem::replace(&mut chunk, Vec::with_capacity(capacity));
                    let (items, document, _) =
                        parse_batch(head, std::mem::take(&mut pending), &file, false, true);
                    if let Some(head) = document {
                        let head = std::io::Cursor::new(head);
                        let mut chained = head.chain(lines.into_inner());
                        read_document(&mut chained, &file, &mut |item| sink(vec![item]));
                        return;
                    }
                    sink(items);
                    continue;
                }
            }
            Err(e) => {
                let (items, _, _) = parse_batch(
                    std::mem::take(&mut chunk),
                    std::mem::take(&mut pending),
                    &file,
                    batch > 1,
                    false,
                );
                if !items.is_empty() {
                    sink(items);
                }
                sink(vec![Item::Error(InputError {
                    file: file.clone(),
                    line: line_no,
                    message: format!("cannot read input: {e}; the rest of the input is skipped"),
                })]);
                return;
            }
        }
        if pending.len() >= batch || chunk.len() >= BATCH_BYTES {
            let full = std::mem::take(&mut chunk);
            let (items, _, text) =
                parse_batch(full, std::mem::take(&mut pending), &file, batch > 1, false);
            sink(items);
            chunk = next_buffer(text, &mut spare, capacity);
        }
    }
    if !pending.is_empty() {
        let (items, _, _) = parse_batch(chunk, pending, &file, batch > 1, false);
        sink(items);
    }
}

/// The buffer for the next batch, once the sink has taken `text`: `text`'s own, emptied, when the
/// sink dropped every event of it (as `palisade audit` does); else the one of the batch before
/// (`spare`: a sink that reads ahead has dropped it by the time it takes the next batch), `text`
/// becoming the spare; a new buffer when neither is free. Reusing buffers spares allocating (and
/// the system zeroing) megabytes for every batch.
fn next_buffer(text: Text, spare: &mut Option<Text>, capacity: usize) -> Vec<u8> {
    let free = match Arc::try_unwrap(text) {
        Ok(text) => Some(text),
        Err(text) => spare
            .replace(text)
            .and_then(|before| Arc::try_unwrap(before).ok()),
    };
    match free {
        Some(text) => {
            let mut buffer = text.into_bytes();
            buffer.clear();
            buffer
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Parses a batch of lines (in parallel when `parallel`), in order, and gives back the batch's
/// text too. With `may_be_document` (the first line alone), a line that ends inside a JSON object
/// or array is given back instead: the start of a pretty-printed document.
fn parse_batch(
    chunk: Vec<u8>,
    pending: Vec<Pending>,
    file: &Arc<str>,
    parallel: bool,
    may_be_document: bool,
) -> (Vec<Item>, Option<Vec<u8>>, Text) {
    // The batch is checked whole (one pass, the usual case). When it is not UTF-8, the lines that
    // are not are errors, and their bytes are blanked so that the batch is a `str`.
    let mut bad: Vec<Option<String>> = vec![None; pending.len()];
    let text = String::from_utf8(chunk).unwrap_or_else(|e| {
        let mut chunk = e.into_bytes();
        for (p, bad) in pending.iter().zip(&mut bad) {
            if let Pending::Text { start, end, .. } = *p {
                if let Err(e) = std::str::from_utf8(&chunk[start..end]) {
                    *bad = Some(format!(
                        "invalid UTF-8 at byte {} of the line; audit events are UTF-8 JSON",
                        e.valid_up_to()
                    ));
                    chunk[start..end].fill(b' ');
                }
            }
        }
        match String::from_utf8(chunk) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
    });
    // The batch's bytes become its text without a copy.
    let text: Text = Arc::new(text);
    let one = |(p, bad): (&Pending, Option<String>)| {
        let mut items = Vec::with_capacity(1);
        match *p {
            Pending::TooLong { line, len } => items.push(Item::Error(InputError {
                file: file.clone(),
                line,
                message: format!(
                    "event of more than {len} bytes, over the limit of {MAX_EVENT_BYTES} bytes; skipped"
                ),
            })),
            Pending::Text { line, .. } if bad.is_some() => items.push(Item::Error(InputError {
                file: file.clone(),
                line,
                message: bad.unwrap_or_default(),
            })),
            Pending::Text {
                line,
                start,
                end,
                unterminated,
            } => {
                if parse_line(&text, start, end, file, line, unterminated, may_be_document, &mut items) {
                    return None;
                }
            }
        }
        Some(items)
    };
    let parsed: Vec<Option<Vec<Item>>> = if parallel && pending.len() > 1 {
        pending.par_iter().zip(bad).map(one).collect()
    } else {
        pending.iter().zip(bad).map(one).collect()
    };
    if parsed.iter().any(Option::is_none) {
        // Only with `may_be_document`, for the one line.
        let (start, end) = match pending.first() {
            Some(Pending::Text { start, end, .. }) => (*start, *end),
            _ => (0, 0),
        };
        return (Vec::new(), Some(text.as_bytes()[start..end].to_vec()), text);
    }
    (parsed.into_iter().flatten().flatten().collect(), None, text)
}

/// Parses one line into `out`; true (and nothing in `out`) when `may_be_document` and the line
/// ends inside a JSON object or array.
#[allow(clippy::too_many_arguments)]
fn parse_line(
    text: &Text,
    start: usize,
    end: usize,
    file: &Arc<str>,
    line_no: u64,
    unterminated: bool,
    may_be_document: bool,
    out: &mut Vec<Item>,
) -> bool {
    let line = &text[start..end];
    match Event::scan(text, start, end, file, line_no) {
        Ok(Scanned::Event(Ok(event))) => out.push(Item::Event(Box::new(event))),
        Ok(Scanned::Event(Err(e))) => out.push(Item::Error(e)),
        Ok(Scanned::Other) => match serde_json::from_str::<Value>(line) {
            Ok(value) => dispatch(value, file, line_no, &mut |item| out.push(item)),
            Err(e) => out.push(Item::Error(InputError {
                file: file.clone(),
                line: line_no,
                message: json_message(&e, unterminated),
            })),
        },
        Err(e) => {
            let head = trim(line.as_bytes());
            if may_be_document && e.is_eof() && (head.starts_with(b"{") || head.starts_with(b"[")) {
                return true;
            }
            out.push(Item::Error(InputError {
                file: file.clone(),
                line: line_no,
                message: json_message(&e, unterminated),
            }));
        }
    }
    false
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

    /// Appends the next line (without its newline) to `buf`; a line too long is not appended.
    fn next_line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<Line> {
        let base = buf.len();
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
                    buf.truncate(base);
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
    memchr::memchr(b'\n', b)
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
    fn batches_read_ahead_keep_input_order_and_equal_single_events() {
        // Three batches and a bit, with bad lines in each; the sink holds on to some events of
        // earlier batches (so their buffers cannot be reused) and drops the others.
        let mut text = String::new();
        let lines = 3 * BATCH_LINES + 17;
        for i in 0..lines {
            if i % 100 == 7 {
                text.push_str("not json\n");
            } else {
                text.push_str(&event_line(&i.to_string()));
                text.push('\n');
            }
        }
        let (events, errors) = read_all(text.clone().into_bytes());
        let mut reader = std::io::Cursor::new(text.into_bytes());
        let (mut batched, mut batched_errors, mut held, mut batches) =
            (Vec::new(), Vec::new(), Vec::new(), 0);
        read_batches(&mut reader, "log", &mut |items| {
            batches += 1;
            for item in items {
                match item {
                    Item::Event(e) => {
                        batched.push(format!("{}@{}", e.str_at("/auditID").unwrap(), e.line));
                        if e.line % 200 == 1 {
                            held.push(e);
                        }
                    }
                    Item::Error(e) => batched_errors.push(e.to_string()),
                }
            }
        });
        assert_eq!(batched, events);
        assert_eq!(batched_errors, errors);
        assert_eq!(errors.len(), (0..lines).filter(|i| i % 100 == 7).count());
        assert!(batches >= 4, "{batches} batches");
        // The events held still read their own lines.
        for e in &held {
            assert_eq!(e.str_at("/auditID").unwrap(), (e.line - 1).to_string());
        }
    }

    #[test]
    fn an_owned_member_is_the_decoded_one_and_is_not_kept() {
        let line = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","stageTimestamp":"2024-01-01T00:00:00.5Z","verb":"create","requestObject":{"kind":"Pod","metadata":{"name":"a\u0062"},"spec":{"containers":[{"image":"x"}]}}}"#;
        let mut events = Vec::new();
        read_events(&mut line.as_bytes(), "log", &mut |item| {
            if let Item::Event(e) = item {
                events.push(e);
            }
        });
        let event = &events[0];
        let owned = event.get_owned("requestObject").unwrap();
        assert_eq!(owned["metadata"]["name"], "ab");
        assert!(event
            .value_of(event.member("requestObject").unwrap())
            .is_none());
        assert_eq!(Some(&owned), event.get("requestObject"));
        // Once decoded into the event, the owned value is a copy of it.
        assert_eq!(
            event.get_owned("requestObject").as_ref(),
            event.get("requestObject")
        );
        assert_eq!(event.get_owned("responseObject"), None);
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

/// The one-pass scanner against serde_json on random JSON and corruptions of it.
#[cfg(test)]
mod scan_tests {
    use super::*;

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    fn ws(r: &mut Rng, out: &mut String) {
        if r.below(4) == 0 {
            out.push_str(r.pick(&[" ", "  ", "\t", "\r", " \n "]));
        }
    }

    fn string(r: &mut Rng, out: &mut String) {
        out.push('"');
        for _ in 0..r.below(6) {
            out.push_str(r.pick(&[
                "a",
                "kind",
                "Event",
                "é",
                "日本",
                "\\n",
                "\\\"",
                "\\\\",
                "\\/",
                "\\u00e9",
                "\\u0041",
                "\\ud83d\\ude00",
                "\\ud800",
                "\\t",
                "x y",
                "😀",
            ]));
        }
        out.push('"');
    }

    fn key(r: &mut Rng, out: &mut String) {
        if r.below(8) == 0 {
            string(r, out);
        } else {
            out.push('"');
            out.push_str(r.pick(&[
                "kind",
                "user",
                "objectRef",
                "username",
                "code",
                "a",
                "b",
                "metadata",
                "0",
                "k\\u0069nd",
                "",
            ]));
            out.push('"');
        }
    }

    fn value(r: &mut Rng, depth: usize, out: &mut String) {
        ws(r, out);
        let choice = if depth > 5 {
            2 + r.below(4)
        } else {
            r.below(7)
        };
        match choice {
            0 | 6 => {
                out.push('{');
                ws(r, out);
                for i in 0..r.below(5) {
                    if i > 0 {
                        out.push(',');
                    }
                    ws(r, out);
                    key(r, out);
                    ws(r, out);
                    out.push(':');
                    value(r, depth + 1, out);
                }
                out.push('}');
            }
            1 => {
                out.push('[');
                for i in 0..r.below(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    value(r, depth + 1, out);
                }
                ws(r, out);
                out.push(']');
            }
            2 | 3 => string(r, out),
            4 => out.push_str(r.pick(&[
                "0",
                "-1",
                "12",
                "3.25",
                "-0.5e3",
                "1E+2",
                "2e-7",
                "18446744073709551616",
                "1e400",
                "401",
            ])),
            _ => out.push_str(r.pick(&["true", "false", "null"])),
        }
        ws(r, out);
    }

    /// Deletes, inserts or replaces characters, or cuts the text.
    fn corrupt(r: &mut Rng, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for _ in 0..1 + r.below(3) {
            if chars.is_empty() {
                break;
            }
            let at = r.below(chars.len());
            let ch = r
                .pick(&[
                    "{", "}", "[", "]", "\"", ":", ",", "\\", "0", "-", ".", "e", "a", " ",
                    "\u{1}", "\u{1f}", "t", "n", "u",
                ])
                .chars()
                .next()
                .unwrap();
            match r.below(4) {
                0 => {
                    chars.remove(at);
                }
                1 => chars.insert(at, ch),
                2 => chars[at] = ch,
                _ => chars.truncate(at),
            }
        }
        chars.into_iter().collect()
    }

    /// The old way: serde_json's scan of an object's members (its error, or `None` when it is
    /// not an object), as keys, value spans and whether the value is a plain string.
    fn reference(text: &str, start: usize, end: usize) -> Result<Option<Vec<Member>>, String> {
        let mut de = serde_json::Deserializer::from_str(&text[start..end]);
        let top = TopSeed {
            base: text.as_ptr() as usize,
        }
        .deserialize(&mut de)
        .and_then(|top| de.end().map(|()| top))
        .map_err(|e| e.to_string())?;
        Ok(match top {
            Top::Object(members, keys) => {
                // Keys owned by the reference are compared by their text below.
                assert!(keys.len() <= members.len());
                Some(members.into_iter().map(|m| owned_key(m, &keys)).collect())
            }
            Top::Other => None,
        })
    }

    /// A member with its owned key's text in the key's place (for comparing).
    fn owned_key(mut m: Member, keys: &[Box<str>]) -> Member {
        if m.flags & OWNED_KEY != 0 {
            let k = &keys[m.key_start as usize];
            m.key_start = u32::MAX - k.len() as u32;
        }
        m
    }

    /// Checks the scanner's members of an object against the reference scan of its text, and
    /// every recorded object below it, as the old lazy scan of an object member (`subs`) did.
    fn same_members(
        text: &str,
        scanned: &crate::scan::Scanned,
        slots: &[Member],
        start: usize,
        end: usize,
        top: bool,
    ) {
        let mut de = serde_json::Deserializer::from_str(&text[start..end]);
        let base = text.as_ptr() as usize;
        let Ok(Top::Object(want, want_keys)) = (TopSeed { base }).deserialize(&mut de) else {
            panic!("not an object: {}", &text[start..end]);
        };
        assert_eq!(slots.len(), want.len(), "{}", &text[start..end]);
        for (got, want) in slots.iter().zip(&want) {
            let (wk, gk) = (want.key(text, &want_keys), got.key(text, &scanned.keys));
            assert_eq!(gk, wk);
            if !top {
                assert_eq!(got.flags & OWNED_KEY, 0);
            }
            assert_eq!((got.start, got.end), (want.start, want.end), "{wk}");
            assert_eq!(got.flags & PLAIN, want.flags & PLAIN, "{wk}");
            let value = &text[got.start as usize..got.end as usize];
            // The old lazy scan of an object member (`subs`): an object whose own keys are all
            // without escapes.
            let old_subs = value.starts_with('{') && {
                let mut de = serde_json::Deserializer::from_str(value);
                matches!(
                    (TopSeed { base }).deserialize(&mut de),
                    Ok(Top::Object(_, keys)) if keys.is_empty()
                )
            };
            assert_eq!(got.flags & KIDS != 0, old_subs, "{value}");
            if old_subs {
                let kids =
                    &scanned.slots[got.kids as usize..got.kids as usize + usize::from(got.nkids)];
                same_members(
                    text,
                    scanned,
                    kids,
                    got.start as usize,
                    got.end as usize,
                    false,
                );
            }
        }
    }

    #[test]
    fn the_scanner_takes_what_serde_json_takes_with_the_same_members() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut accepted, mut rejected) = (0, 0);
        for case in 0..40_000 {
            let mut doc = String::new();
            if r.below(10) == 0 {
                value(&mut r, 0, &mut doc);
            } else {
                // An object at the top, as audit lines are.
                ws(&mut r, &mut doc);
                doc.push('{');
                for i in 0..r.below(6) {
                    if i > 0 {
                        doc.push(',');
                    }
                    key(&mut r, &mut doc);
                    doc.push(':');
                    value(&mut r, 1, &mut doc);
                }
                doc.push('}');
                ws(&mut r, &mut doc);
            }
            if case % 2 == 1 {
                doc = corrupt(&mut r, &doc);
            }
            // The line sits inside a larger text, as in a batch.
            let text = format!("xx\n{doc}\nyy");
            let (start, end) = (3, 3 + doc.len());
            let want = reference(&text, start, end);
            match crate::scan::scan(&text[start..end], start) {
                Some(scanned) => {
                    accepted += 1;
                    let Ok(Some(_)) = want else {
                        panic!("accepted what serde_json does not: {doc:?}: {want:?}");
                    };
                    let tops =
                        &scanned.slots[scanned.top as usize..(scanned.top + scanned.ntop) as usize];
                    same_members(&text, &scanned, tops, start, end, true);
                }
                None => {
                    rejected += 1;
                    // Left to serde_json: an error there, or not an object, or a top-level key
                    // whose escapes do not decode.
                    if let Ok(Some(members)) = &want {
                        assert!(
                            members.iter().any(|m| m.flags & OWNED_KEY != 0),
                            "rejected what serde_json takes: {doc:?}"
                        );
                    }
                }
            }
        }
        assert!(
            accepted > 15_000 && rejected > 15_000,
            "{accepted} {rejected}"
        );
    }

    /// Lines as the scanner reads them give the events, members and values serde_json's would.
    #[test]
    fn events_read_the_same_values_as_decoded_ones() {
        let line = r#" {"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a\u0062","stage":"ResponseComplete","stageTimestamp":"2024-01-01T00:00:00.5Z","verb":"create","user":{"username":"al\"ice","groups":["a","b"],"extra":{"x":{"y":1}}},"objectRef":{"resource":"pods","namespace":"default","name":"p","n\u0061me":"q"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","metadata":{"name":"web","labels":{}},"spec":{"containers":[{"image":"x"}]}},"k\u0069nd2":1,"verb":"update"} "#;
        let text: Text = Arc::new(format!("\n{line}\n"));
        let Ok(Scanned::Event(Ok(event))) =
            Event::scan(&text, 1, 1 + line.len(), &Arc::from("log"), 1)
        else {
            panic!("not an event");
        };
        // The user was recorded in the scan: its members are read from the line.
        assert!(event.subs(event.member("user").unwrap()).is_some());
        assert!(event.value_of(event.member("user").unwrap()).is_none());
        assert_eq!(event.str_path(&["user", "groups", "0"]), Some("a"));
        assert!(event.value_of(event.member("user").unwrap()).is_none());
        let value: Value = serde_json::from_str(line).unwrap();
        let decoded = Event::from_value(value.clone(), Arc::from("log"), 1).unwrap();
        assert_eq!(event.to_value(), decoded.to_value());
        assert_eq!(event.to_value(), value);
        for path in [
            &["auditID"][..],
            &["verb"],
            &["user", "username"],
            &["user", "groups"],
            &["user", "groups", "1"],
            &["user", "extra", "x", "y"],
            &["objectRef", "name"],
            &["responseStatus", "code"],
            &["responseStatus", "metadata"],
            &["requestObject", "metadata", "name"],
            &["requestObject", "spec", "containers", "0", "image"],
            &["kind2"],
            &["missing", "x"],
        ] {
            assert_eq!(event.at(path), decoded.at(path), "{path:?}");
            assert_eq!(event.str_path(path), decoded.str_path(path), "{path:?}");
            assert_eq!(event.u64_path(path), decoded.u64_path(path), "{path:?}");
            assert_eq!(
                event.string_path(path),
                decoded.string_path(path),
                "{path:?}"
            );
        }
        assert_eq!(event.code(), Some(201));
        assert_eq!(event.str("verb"), Some("update"));
        assert!(std::mem::size_of::<Member>() <= 24);
    }

    /// Objects of more members than the scan records: the event is read all the same.
    #[test]
    fn objects_with_very_many_members() {
        let many: Vec<String> = (0..70_000).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let many = many.join(",");
        let head = r#"{"kind":"Event","stageTimestamp":"2024-01-01T00:00:00Z","auditID":"a","#;
        for line in [
            format!(r#"{head}"user":{{"username":"u",{many}}}}}"#),
            format!(r#"{head}{many},"user":{{"username":"u"}}}}"#),
        ] {
            let text: Text = Arc::new(line.clone());
            let Ok(Scanned::Event(Ok(event))) =
                Event::scan(&text, 0, line.len(), &Arc::from("log"), 1)
            else {
                panic!("not an event");
            };
            assert_eq!(event.str_path(&["user", "username"]), Some("u"));
            assert_eq!(event.str("auditID"), Some("a"));
        }
    }
}
