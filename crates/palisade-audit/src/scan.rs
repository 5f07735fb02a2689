//! One pass over a line of the audit log: validates it as JSON (as `serde_json` does when it
//! skips a value) and records the members of its top-level object and of every object nested in
//! it through objects only (`user`, `objectRef`, `responseStatus`, `requestObject.metadata`...),
//! as spans of the text. Arrays and what is inside them are validated, not recorded: a path
//! that meets an array decodes it.
//!
//! Whatever the scanner does not take (a line that is not an object, invalid JSON, a top-level
//! key whose escapes do not decode) is left to `serde_json`, which gives the error or the value
//! as before: the scanner only ever accepts what `serde_json` accepts.

use std::cell::RefCell;

/// Flags of a [`Slot`].
/// An object whose members were recorded: `kids..kids + nkids` of the event's members.
pub(crate) const KIDS: u8 = 1;
/// A string without escapes.
pub(crate) const PLAIN: u8 = 2;
/// The key is `Event::keys[key_start]` (a key with escapes, or a decoded event's).
pub(crate) const OWNED_KEY: u8 = 4;

/// One member of an object: where its key and value are in the text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    /// The key's text without its quotes (or, with [`OWNED_KEY`], its index in the keys).
    pub key_start: u32,
    pub key_end: u32,
    /// The value's JSON text.
    pub start: u32,
    pub end: u32,
    pub kids: u32,
    pub nkids: u16,
    pub flags: u8,
}

impl Slot {
    /// The member's key: a span of `text`, or one of `keys` ([`OWNED_KEY`]).
    pub fn key<'t>(&self, text: &'t str, keys: &'t [Box<str>]) -> &'t str {
        if self.flags & OWNED_KEY != 0 {
            keys.get(self.key_start as usize).map_or("", |k| k)
        } else {
            &text[self.key_start as usize..self.key_end as usize]
        }
    }
}

/// What [`scan`] recorded: every recorded object's members, each object's contiguous (children
/// before their parents); the top-level object's are `slots[top..top + ntop]`.
#[derive(Debug, Default)]
pub(crate) struct Scanned {
    pub slots: Vec<Slot>,
    /// The decoded top-level keys that had escapes.
    pub keys: Vec<Box<str>>,
    pub top: u32,
    pub ntop: u32,
}

/// Objects nested deeper than this (through objects) are validated but not recorded: a path
/// into them decodes the object at this depth.
const RECORD_DEPTH: usize = 48;

#[derive(Debug, Clone, Copy)]
struct Frame {
    object: bool,
    record: bool,
    /// A key with escapes: the object's members are not recorded (a path into it decodes it, as
    /// for an object met inside an array).
    failed: bool,
    /// Where its members start in the scratch stack.
    mark: u32,
}

#[derive(Default)]
struct Scratch {
    frames: Vec<Frame>,
    /// The members of the objects being scanned.
    stack: Vec<Slot>,
    /// The members of the objects scanned, in their final order.
    done: Vec<Slot>,
}

/// The capacity (in members or open objects) of the per-thread stacks kept between lines.
const KEEP: usize = 4096;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Clone, Copy)]
enum State {
    Value,
    FirstKey,
    Key,
    After,
}

/// Scans `line`, which starts at byte `base` of the text the spans point into. `None`: not a
/// JSON object, or not one the scanner takes (see the module's documentation).
pub(crate) fn scan(line: &str, base: usize) -> Option<Scanned> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        let Scratch {
            frames,
            stack,
            done,
        } = &mut *s;
        frames.clear();
        stack.clear();
        done.clear();
        let scanned =
            scan_with(line.as_bytes(), base, frames, stack, done).map(|(keys, top, ntop)| {
                // One allocation of the exact size per event.
                Scanned {
                    slots: done.to_vec(),
                    keys,
                    top,
                    ntop,
                }
            });
        // A huge line's members are not kept per thread once it is read.
        for v in [&mut *stack, &mut *done] {
            if v.capacity() > KEEP {
                *v = Vec::new();
            }
        }
        if frames.capacity() > KEEP {
            *frames = Vec::new();
        }
        scanned
    })
}

fn ws(b: &[u8], i: &mut usize) {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(*i) {
        *i += 1;
    }
}

/// The top-level keys with escapes, and where the top-level members are in `done`.
type Top = (Vec<Box<str>>, u32, u32);

fn scan_with(
    b: &[u8],
    base: usize,
    frames: &mut Vec<Frame>,
    stack: &mut Vec<Slot>,
    done: &mut Vec<Slot>,
) -> Option<Top> {
    let mut i = 0;
    ws(b, &mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut out = Done {
        slots: done,
        keys: Vec::new(),
        top: 0,
        ntop: 0,
    };
    let pos = |i: usize| (base + i) as u32;
    let mut state = State::Value;
    loop {
        match state {
            State::Value => {
                ws(b, &mut i);
                let recording = matches!(frames.last(), Some(f) if f.object && f.record);
                if recording {
                    if let Some(slot) = stack.last_mut() {
                        slot.start = pos(i);
                    }
                }
                let mut flags = 0;
                match *b.get(i)? {
                    b'{' => {
                        let record =
                            frames.is_empty() || (recording && frames.len() < RECORD_DEPTH);
                        frames.push(Frame {
                            object: true,
                            record,
                            failed: false,
                            mark: stack.len() as u32,
                        });
                        i += 1;
                        state = State::FirstKey;
                        continue;
                    }
                    b'[' => {
                        i += 1;
                        ws(b, &mut i);
                        if b.get(i) == Some(&b']') {
                            i += 1;
                        } else {
                            frames.push(Frame {
                                object: false,
                                record: false,
                                failed: false,
                                mark: 0,
                            });
                            continue;
                        }
                    }
                    b'"' => {
                        if !string(b, &mut i)? {
                            flags = PLAIN;
                        }
                    }
                    b'-' | b'0'..=b'9' => number(b, &mut i)?,
                    b't' => literal(b, &mut i, b"true")?,
                    b'f' => literal(b, &mut i, b"false")?,
                    b'n' => literal(b, &mut i, b"null")?,
                    _ => return None,
                }
                if recording {
                    if let Some(slot) = stack.last_mut() {
                        slot.end = pos(i);
                        slot.flags |= flags;
                    }
                }
                state = State::After;
            }
            State::FirstKey => {
                ws(b, &mut i);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                    close_object(frames, stack, &mut out, pos(i));
                    state = State::After;
                } else {
                    state = State::Key;
                }
            }
            State::Key => {
                ws(b, &mut i);
                if b.get(i) != Some(&b'"') {
                    return None;
                }
                let key_start = i + 1;
                let escaped = string(b, &mut i)?;
                let key_end = i - 1;
                ws(b, &mut i);
                if b.get(i) != Some(&b':') {
                    return None;
                }
                i += 1;
                let depth = frames.len();
                let frame = frames.last_mut()?;
                if frame.record {
                    let mut slot = Slot {
                        key_start: pos(key_start),
                        key_end: pos(key_end),
                        ..Slot::default()
                    };
                    if escaped {
                        if depth == 1 {
                            // A top-level key is kept decoded; one that does not decode is
                            // an error, left to serde_json.
                            let raw = std::str::from_utf8(&b[key_start - 1..key_end + 1]).ok()?;
                            let key: String = serde_json::from_str(raw).ok()?;
                            slot.key_start = out.keys.len() as u32;
                            slot.flags = OWNED_KEY;
                            out.keys.push(key.into_boxed_str());
                        } else {
                            frame.failed = true;
                        }
                    }
                    stack.push(slot);
                }
                state = State::Value;
            }
            State::After => {
                ws(b, &mut i);
                let Some(frame) = frames.last() else {
                    let whole = i == b.len() && out.top != u32::MAX;
                    return whole.then_some((out.keys, out.top, out.ntop));
                };
                match (frame.object, *b.get(i)?) {
                    (_, b',') => {
                        i += 1;
                        state = if frame.object {
                            State::Key
                        } else {
                            State::Value
                        };
                    }
                    (true, b'}') => {
                        i += 1;
                        close_object(frames, stack, &mut out, pos(i));
                    }
                    (false, b']') => {
                        i += 1;
                        frames.pop();
                        if let Some(parent) = frames.last() {
                            if parent.object && parent.record {
                                if let Some(slot) = stack.last_mut() {
                                    slot.end = pos(i);
                                }
                            }
                        }
                    }
                    _ => return None,
                }
            }
        }
    }
}

/// The members of the objects scanned so far.
struct Done<'d> {
    slots: &'d mut Vec<Slot>,
    keys: Vec<Box<str>>,
    top: u32,
    ntop: u32,
}

/// Ends the object of the top frame at `end`: its members (when recorded) move to `out`, and the
/// member of its parent that holds it gets its end and, when recorded, its members.
fn close_object(frames: &mut Vec<Frame>, stack: &mut Vec<Slot>, out: &mut Done<'_>, end: u32) {
    let Some(frame) = frames.pop() else {
        return;
    };
    let mark = frame.mark as usize;
    let count = stack.len().saturating_sub(mark);
    // An object of more members than a `u16` counts is decoded where a path meets it.
    let kids = if frame.record && !frame.failed && count <= usize::from(u16::MAX) {
        let first = out.slots.len() as u32;
        out.slots.extend(stack.drain(mark..));
        Some((first, count as u16))
    } else {
        stack.truncate(mark.min(stack.len()));
        None
    };
    match frames.last() {
        None => match kids {
            Some((top, ntop)) => {
                out.top = top;
                out.ntop = u32::from(ntop);
            }
            // Too many top-level members: left to serde_json.
            None => out.top = u32::MAX,
        },
        Some(parent) if parent.object && parent.record => {
            if let Some(slot) = stack.last_mut() {
                slot.end = end;
                if let Some((first, n)) = kids {
                    slot.kids = first;
                    slot.nkids = n;
                    slot.flags |= KIDS;
                }
            }
        }
        Some(_) => {}
    }
}

fn literal(b: &[u8], i: &mut usize, word: &[u8]) -> Option<()> {
    if b.get(*i..*i + word.len())? != word {
        return None;
    }
    *i += word.len();
    Some(())
}

/// A JSON number (`serde_json`'s grammar; its range is checked only where it is decoded).
fn number(b: &[u8], i: &mut usize) -> Option<()> {
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        (*i > start).then_some(())
    };
    if b.get(*i) == Some(&b'-') {
        *i += 1;
    }
    match *b.get(*i)? {
        b'0' => *i += 1,
        b'1'..=b'9' => digits(i)?,
        _ => return None,
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        digits(i)?;
    }
    if let Some(b'e' | b'E') = b.get(*i) {
        *i += 1;
        if let Some(b'+' | b'-') = b.get(*i) {
            *i += 1;
        }
        digits(i)?;
    }
    Some(())
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of `s` before the first `"`, `\` or control character (eight at a time).
fn plain_run(s: &[u8]) -> usize {
    let mut k = 0;
    while let Some(chunk) = s.get(k..k + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let zero = |y: u64| y.wrapping_sub(ONES) & !y & HIGH;
        let hits = zero(x ^ (ONES * u64::from(b'"')))
            | zero(x ^ (ONES * u64::from(b'\\')))
            | (x.wrapping_sub(ONES * 0x20) & !x & HIGH);
        if hits != 0 {
            return k + (hits.trailing_zeros() / 8) as usize;
        }
        k += 8;
    }
    while s
        .get(k)
        .is_some_and(|&c| c >= 0x20 && c != b'"' && c != b'\\')
    {
        k += 1;
    }
    k
}

/// A string whose opening quote is at `*i`, as `serde_json` skips one (escapes checked, control
/// characters refused); leaves `*i` after the closing quote. `true` when it has escapes.
fn string(b: &[u8], i: &mut usize) -> Option<bool> {
    let mut j = *i + 1;
    let mut escaped = false;
    loop {
        j += plain_run(b.get(j..)?);
        match *b.get(j)? {
            b'"' => {
                *i = j + 1;
                return Some(escaped);
            }
            b'\\' => {
                escaped = true;
                match *b.get(j + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                    b'u' => {
                        if !b.get(j + 2..j + 6)?.iter().all(u8::is_ascii_hexdigit) {
                            return None;
                        }
                        j += 6;
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_run_finds_the_first_stop() {
        let text = "abcdefghijklmnop\"qrstuvwxyz";
        for start in 0..text.len() {
            let s = &text.as_bytes()[start..];
            let want = s
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(s.len());
            assert_eq!(plain_run(s), want, "{start}");
        }
        assert_eq!(plain_run("é\u{1}".as_bytes()), 2);
        assert_eq!(plain_run("ééééé\\".as_bytes()), 10);
    }
}
