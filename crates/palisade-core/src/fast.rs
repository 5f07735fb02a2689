//! A scanner for the block-style subset of YAML that manifests are written in, producing the
//! events the full parser (`saphyr_parser`) produces for the same text, at the same positions,
//! straight from the bytes: no token queue, no lookahead buffer and no `String` for a scalar
//! that is a slice of the input.
//!
//! The subset: documents (`---` lines, comments, blank lines) whose root is a block mapping, a
//! block sequence or a flow collection; block mappings with plain or quoted single-line keys;
//! block sequences (indented or not, `- - x`, `- key: value`); plain and quoted scalars
//! (multi-line ones included); literal and folded block scalars (`|`, `>`, with `-` or `+`);
//! flow collections of scalars and flow collections (JSON included). Anything else (anchors,
//! aliases, tags, directives, `...`, complex keys, multi-line keys or scalars in flow
//! collections, tabs, carriage returns, unusual indentation, and every syntax error) makes the
//! scanner give up on the document: [`scan`] returns where it starts, and the caller decodes it
//! with the full parser. So the scanner never has to produce an error message of its own, and
//! decides nothing the full parser would decide otherwise: the loader's differential tests
//! check that both give the same documents, positions and errors on the corpus and on
//! generated YAML.

use std::borrow::Cow;
use std::cell::Cell;

use saphyr_parser::{Event, ScalarStyle};

use crate::pos::Pos;

/// Where the scanner's events go: the decoder.
pub(crate) trait Sink {
    fn start_document(&mut self);
    /// Whether one more node fits in the budget; the scanner leaves a document that would
    /// cross it to the full parser.
    fn room(&self) -> bool;
    fn event(&mut self, event: Event<'_>, pos: Pos);
    fn end_document(&mut self);
    /// Decoding has stopped (the node budget is spent): no more events.
    fn stopped(&self) -> bool;
}

/// How a scan ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The whole text was scanned; the position the full parser gives the end of the stream.
    Done(Pos),
    /// The document starting at byte `at` (after `lines` lines of the text) is outside the
    /// subset. Its events so far must be discarded: it is to be decoded by the full parser.
    Fallback { at: usize, lines: u32 },
    /// The sink stopped.
    Stopped,
}

enum Stop {
    /// Outside the subset (or not valid YAML): the full parser decides.
    Bail,
    /// The sink stopped.
    Sink,
}

type R<T> = Result<T, Stop>;

/// What follows, at the start of a line, once blank and comment lines are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    End,
    /// A `---` line (the scanner is at its start).
    DocumentStart,
    /// A line with content, indented by `indent` spaces (the scanner is at its first
    /// character).
    Content {
        indent: usize,
    },
}

/// Block nesting beyond this is left to the full parser.
const MAX_DEPTH: usize = 100;

/// The longest key the full parser takes as an implicit key.
const MAX_KEY: usize = 1024;

/// Scans `text` document by document into `sink`, until its end, a document outside the
/// subset, or the sink stopping. `line_offset` is added to every line reported.
pub(crate) fn scan<S: Sink>(text: &str, line_offset: u32, sink: &mut S) -> End {
    let mut scanner = Scanner {
        b: text.as_bytes(),
        text,
        i: 0,
        line: 0,
        line_start: 0,
        line_offset,
        column: Cell::new((0, 0, 0)),
        sink,
    };
    loop {
        let (at, lines) = (scanner.i, scanner.line);
        match scanner.document() {
            Ok(true) => {}
            Ok(false) => return End::Done(scanner.end_pos()),
            Err(Stop::Bail) => return End::Fallback { at, lines },
            Err(Stop::Sink) => return End::Stopped,
        }
    }
}

/// How a plain scalar ended.
#[derive(Debug, PartialEq, Eq)]
enum PlainEnd {
    /// At the end of the line, or at a comment.
    Line,
    /// At `: ` (or `:` ending the line): the scalar is a key; the scanner is at the `:`.
    Colon,
    /// At a flow indicator (flow context only).
    Flow,
}

struct Scanner<'t, 's, S: Sink> {
    text: &'t str,
    b: &'t [u8],
    i: usize,
    /// Lines of the text before the current one.
    line: u32,
    line_start: usize,
    line_offset: u32,
    /// The last column computed: `(line start, byte, column)`. Columns count characters from
    /// the line's start, so on a long line (a one-line flow sequence) each is counted on from
    /// the last one instead of from the start.
    column: Cell<(usize, usize, usize)>,
    sink: &'s mut S,
}

fn is_break_or_end(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b'\n'))
}

fn is_blank_or_end(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b'\n' | b' '))
}

/// Characters the scanner leaves to the full parser wherever they occur: control characters
/// other than tab and line feed (carriage returns included), and the non-ASCII ones that YAML
/// treats specially (C1 controls, next line, line and paragraph separators, byte order marks
/// and non-characters).
fn check_text(text: &str) -> R<()> {
    // In blocks without an early exit, which the compiler turns into vector instructions.
    let mut ascii = true;
    for block in text.as_bytes().chunks(64) {
        let (mut control, mut high) = (false, false);
        for &byte in block {
            control |= byte < 0x20 && byte != b'\t' && byte != b'\n' || byte == 0x7f;
            high |= byte >= 0x80;
        }
        if control {
            return Err(Stop::Bail);
        }
        ascii &= !high;
    }
    if !ascii {
        for c in text.chars() {
            if matches!(
                c,
                '\u{80}'
                    ..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ) {
                return Err(Stop::Bail);
            }
        }
    }
    Ok(())
}

impl<'t, S: Sink> Scanner<'t, '_, S> {
    fn peek(&self) -> Option<&u8> {
        self.b.get(self.i)
    }

    fn at(&self, at: usize) -> Option<&u8> {
        self.b.get(at)
    }

    /// The position of byte `at` of the current line.
    fn pos(&self, at: usize) -> Pos {
        let (line_start, byte, column) = self.column.get();
        let (from, counted) = if line_start == self.line_start && byte <= at {
            (byte, column)
        } else {
            (self.line_start, 0)
        };
        let between = &self.text[from..at];
        let col = counted
            + if between.is_ascii() {
                between.len()
            } else {
                between.chars().count()
            };
        self.column.set((self.line_start, at, col));
        Pos::new(self.line_offset + self.line + 1, col as u32 + 1)
    }

    fn here(&self) -> Pos {
        self.pos(self.i)
    }

    /// The full parser's position for the end of the stream: the line after the last one.
    fn end_pos(&self) -> Pos {
        let partial = u32::from(self.line_start < self.b.len());
        Pos::new(self.line_offset + self.line + partial + 1, 1)
    }

    fn emit(&mut self, event: Event<'_>, pos: Pos) -> R<()> {
        if !self.sink.room() {
            return Err(Stop::Bail);
        }
        self.sink.event(event, pos);
        if self.sink.stopped() {
            return Err(Stop::Sink);
        }
        Ok(())
    }

    fn null(&mut self, pos: Pos) -> R<()> {
        self.emit(
            Event::Scalar(Cow::Borrowed(""), ScalarStyle::Plain, 0, None),
            pos,
        )
    }

    /// After an entry of a flow collection closed by `close`: past a `,` (and the blanks after
    /// it) when another entry follows, or true at `close` itself. A trailing comma and anything
    /// else are left to the full parser.
    fn flow_separator(&mut self, p: isize, close: u8) -> R<bool> {
        self.flow_blanks(p)?;
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.flow_blanks(p)?;
                if self.peek() == Some(&close) {
                    return Err(Stop::Bail);
                }
                Ok(false)
            }
            Some(&b) if b == close => Ok(true),
            _ => Err(Stop::Bail),
        }
    }

    /// Moves past the line feed at `self.i` to the start of the next line.
    fn next_line(&mut self) {
        self.i += 1;
        self.line += 1;
        self.line_start = self.i;
    }

    /// Whether the current line, from its start, is a document marker (`---` or `...`).
    fn marker_at_line_start(&self, marker: &[u8]) -> bool {
        self.b[self.i..].starts_with(marker) && is_break_or_end_or_blank(self.at(self.i + 3))
    }

    /// From the start of a line: skips blank and comment lines.
    fn content_line(&mut self) -> R<Line> {
        loop {
            if self.i >= self.b.len() {
                return Ok(Line::End);
            }
            if self.marker_at_line_start(b"---") {
                return Ok(Line::DocumentStart);
            }
            if self.marker_at_line_start(b"...") {
                return Err(Stop::Bail);
            }
            let start = self.i;
            while self.peek() == Some(&b' ') {
                self.i += 1;
            }
            match self.peek() {
                None => return Ok(Line::End),
                Some(b'\n') => self.next_line(),
                Some(b'#') => self.comment()?,
                Some(b'\t' | b'%') => return Err(Stop::Bail),
                Some(_) => {
                    return Ok(Line::Content {
                        indent: self.i - start,
                    })
                }
            }
        }
    }

    /// At a `#`: skips the comment and its line feed.
    fn comment(&mut self) -> R<()> {
        let rest = &self.text[self.i..];
        let len = rest.find('\n').unwrap_or(rest.len());
        check_text(&rest[..len])?;
        self.i += len;
        if self.i < self.b.len() {
            self.next_line();
        }
        Ok(())
    }

    /// After a node that ends its line: blanks, an optional comment, the line feed.
    fn end_line(&mut self) -> R<()> {
        let start = self.i;
        while self.peek() == Some(&b' ') {
            self.i += 1;
        }
        match self.peek() {
            None => Ok(()),
            Some(b'\n') => {
                self.next_line();
                Ok(())
            }
            Some(b'#') if self.i > start => self.comment(),
            _ => Err(Stop::Bail),
        }
    }

    /// The position where the full parser puts an empty node that ends its line (an empty
    /// sequence entry): the end of the line, after any comment. Does not move.
    fn end_of_line_pos(&self) -> R<Pos> {
        let mut at = self.i;
        while self.at(at) == Some(&b' ') {
            at += 1;
        }
        match self.at(at) {
            None | Some(b'\n') => {}
            Some(b'#') => {
                let rest = &self.text[at..];
                at += rest.find('\n').unwrap_or(rest.len());
            }
            _ => return Err(Stop::Bail),
        }
        Ok(self.pos(at))
    }

    /// Skips to the end of the line (blanks and a comment) and past its line feed.
    fn skip_line_rest(&mut self) -> R<()> {
        while self.peek() == Some(&b' ') {
            self.i += 1;
        }
        match self.peek() {
            None => Ok(()),
            Some(b'\n') => {
                self.next_line();
                Ok(())
            }
            Some(b'#') => self.comment(),
            _ => Err(Stop::Bail),
        }
    }

    /// One document; false at the end of the text.
    fn document(&mut self) -> R<bool> {
        let line = match self.content_line()? {
            Line::End => return Ok(false),
            Line::DocumentStart => {
                self.i += 3;
                self.skip_line_rest()?;
                self.sink.start_document();
                self.content_line()?
            }
            content => {
                self.sink.start_document();
                content
            }
        };
        match line {
            Line::End => {
                let pos = self.end_pos();
                self.null(pos)?;
            }
            Line::DocumentStart => {
                let pos = self.here();
                self.null(pos)?;
            }
            Line::Content { indent } => {
                if indent != 0 {
                    return Err(Stop::Bail);
                }
                let after = if matches!(self.peek(), Some(b'[' | b'{')) {
                    self.flow_node(-1, 1)?;
                    self.end_line()?;
                    self.content_line()?
                } else if self.at_dash() {
                    self.block_sequence(0, false, 1)?
                } else if self.key_ahead()? {
                    self.block_mapping(0, 1)?
                } else {
                    return Err(Stop::Bail);
                };
                if !matches!(after, Line::End | Line::DocumentStart) {
                    return Err(Stop::Bail);
                }
            }
        }
        self.sink.end_document();
        Ok(true)
    }

    /// Whether the scanner is at a block sequence entry (`-` then a blank or the line's end).
    fn at_dash(&self) -> bool {
        self.peek() == Some(&b'-') && is_blank_or_end(self.at(self.i + 1))
    }

    /// Whether a key (a scalar followed by `: ` on this line) starts here. Does not move.
    fn key_ahead(&mut self) -> R<bool> {
        let start = (self.i, self.line, self.line_start);
        let found = match self.peek() {
            Some(b'"' | b'\'') => {
                if !self.quote_closes_on_line() {
                    return Ok(false);
                }
                self.quoted(None)?;
                while self.peek() == Some(&b' ') {
                    self.i += 1;
                }
                self.peek() == Some(&b':') && is_blank_or_end(self.at(self.i + 1))
            }
            _ => {
                if !self.plain_may_start(false) {
                    (self.i, self.line, self.line_start) = start;
                    return Ok(false);
                }
                self.plain(false)?.1 == PlainEnd::Colon
            }
        };
        (self.i, self.line, self.line_start) = start;
        Ok(found)
    }

    fn enter(depth: usize) -> R<()> {
        if depth > MAX_DEPTH {
            return Err(Stop::Bail);
        }
        Ok(())
    }

    /// A block mapping whose first key is here, at column `n`. Returns the line after it.
    fn block_mapping(&mut self, n: usize, depth: usize) -> R<Line> {
        Self::enter(depth)?;
        let pos = self.here();
        self.emit(Event::MappingStart(0, None), pos)?;
        loop {
            let key_pos = self.here();
            let start = self.i;
            let (key, style) = match self.peek() {
                Some(b'"' | b'\'') => {
                    let (key, style) = self.quoted(None)?;
                    while self.peek() == Some(&b' ') {
                        self.i += 1;
                    }
                    if self.peek() != Some(&b':') || !is_blank_or_end(self.at(self.i + 1)) {
                        return Err(Stop::Bail);
                    }
                    (key, style)
                }
                _ => {
                    if !self.plain_may_start(false) {
                        return Err(Stop::Bail);
                    }
                    let (key, end) = self.plain(false)?;
                    if end != PlainEnd::Colon {
                        return Err(Stop::Bail);
                    }
                    (key, ScalarStyle::Plain)
                }
            };
            if self.i - start > MAX_KEY {
                return Err(Stop::Bail);
            }
            self.emit(Event::Scalar(key, style, 0, None), key_pos)?;
            let colon = self.here();
            self.i += 1;
            let next = self.value(n, colon, depth)?;
            match next {
                Line::Content { indent } if indent == n && !self.at_dash() => {}
                Line::Content { indent } if indent >= n => return Err(Stop::Bail),
                other => {
                    let pos = self.here();
                    self.emit(Event::MappingEnd, pos)?;
                    return Ok(other);
                }
            }
        }
    }

    /// The value of a key of a mapping at column `n`, after its `:` (at `colon`).
    fn value(&mut self, n: usize, colon: Pos, depth: usize) -> R<Line> {
        while self.peek() == Some(&b' ') {
            self.i += 1;
        }
        match self.peek() {
            None | Some(b'\n' | b'#') => {
                self.skip_line_rest()?;
                let line = self.content_line()?;
                match line {
                    Line::Content { indent } if indent > n => self.block_node(n, depth + 1),
                    Line::Content { indent } if indent == n && self.at_dash() => {
                        self.block_sequence(n, true, depth + 1)
                    }
                    _ => {
                        self.null(colon)?;
                        Ok(line)
                    }
                }
            }
            Some(_) => self.inline_value(n, depth + 1),
        }
    }

    /// A node that starts a line of its own, more indented than its parent at column `p`.
    fn block_node(&mut self, p: usize, depth: usize) -> R<Line> {
        let col = self.i - self.line_start;
        if self.at_dash() {
            return self.block_sequence(col, false, depth);
        }
        if matches!(self.peek(), Some(b'|' | b'>')) {
            return Err(Stop::Bail);
        }
        if self.key_ahead()? {
            return self.block_mapping(col, depth);
        }
        self.inline_value(p, depth)
    }

    /// A block sequence whose first `-` is here, at column `n`. An indentless sequence (the
    /// value of a key at the same column) starts, for the full parser, at its first entry's
    /// content.
    fn block_sequence(&mut self, n: usize, indentless: bool, depth: usize) -> R<Line> {
        Self::enter(depth)?;
        if !indentless {
            let pos = self.here();
            self.emit(Event::SequenceStart(0, None), pos)?;
        }
        let mut first = true;
        loop {
            self.i += 1;
            while self.peek() == Some(&b' ') {
                self.i += 1;
            }
            let on_line = !matches!(self.peek(), None | Some(b'\n' | b'#'));
            if first && indentless {
                let pos = if on_line {
                    self.here()
                } else {
                    self.end_of_line_pos()?
                };
                self.emit(Event::SequenceStart(0, None), pos)?;
            }
            first = false;
            let next = if on_line {
                let col = self.i - self.line_start;
                if self.at_dash() {
                    self.block_sequence(col, false, depth + 1)?
                } else if !matches!(self.peek(), Some(b'[' | b'{' | b'|' | b'>'))
                    && self.key_ahead()?
                {
                    self.block_mapping(col, depth + 1)?
                } else {
                    self.inline_value(n, depth + 1)?
                }
            } else {
                let pos = self.end_of_line_pos()?;
                self.skip_line_rest()?;
                let line = self.content_line()?;
                match line {
                    Line::Content { indent } if indent > n => self.block_node(n, depth + 1)?,
                    _ => {
                        self.null(pos)?;
                        line
                    }
                }
            };
            match next {
                Line::Content { indent } if indent == n && self.at_dash() => {}
                Line::Content { indent } if indent > n => return Err(Stop::Bail),
                other => {
                    let pos = self.here();
                    self.emit(Event::SequenceEnd, pos)?;
                    return Ok(other);
                }
            }
        }
    }

    /// A node that starts here, in the middle of a line, in a block collection at column `p`.
    /// Returns the line after it.
    fn inline_value(&mut self, p: usize, depth: usize) -> R<Line> {
        match self.peek() {
            Some(b'"' | b'\'') => {
                let pos = self.here();
                let (text, style) = self.quoted(Some(p))?;
                self.emit(Event::Scalar(text, style, 0, None), pos)?;
            }
            Some(b'[' | b'{') => self.flow_node(p as isize, depth)?,
            Some(b'|' | b'>') => return self.block_scalar(p),
            _ => {
                if !self.plain_may_start(false) {
                    return Err(Stop::Bail);
                }
                let pos = self.here();
                let (text, end) = self.plain(false)?;
                if end != PlainEnd::Line {
                    return Err(Stop::Bail);
                }
                let text = self.plain_lines(text, p)?;
                self.emit(Event::Scalar(text, ScalarStyle::Plain, 0, None), pos)?;
            }
        }
        self.end_line()?;
        self.content_line()
    }

    /// The lines that continue a plain scalar (`first` is its first line) of a block
    /// collection at column `p`: lines indented at least two columns past it, folded into one
    /// (a line break is a space, blank lines are line breaks). The scanner stops at the end of
    /// the scalar's last line. A line indented one column past `p` is left to the full parser.
    fn plain_lines(&mut self, first: Cow<'t, str>, p: usize) -> R<Cow<'t, str>> {
        let mut text = first;
        loop {
            // The scalar can go on only where its line ends without a comment.
            let mut at = self.i;
            while self.at(at) == Some(&b' ') {
                at += 1;
            }
            if self.at(at) != Some(&b'\n') {
                return Ok(text);
            }
            // Blank lines, then the next line with content.
            let mut blank = 0usize;
            let indent = loop {
                at += 1;
                let start = at;
                while self.at(at) == Some(&b' ') {
                    at += 1;
                }
                match self.at(at) {
                    Some(b'\n') => blank += 1,
                    None => return Ok(text),
                    Some(b'\t') => return Err(Stop::Bail),
                    Some(_) => break at - start,
                }
            };
            if indent <= p || self.b[at] == b'#' {
                return Ok(text);
            }
            if indent == p + 1 {
                return Err(Stop::Bail);
            }
            // The continuation line: move to it.
            while self.i < at {
                if self.b[self.i] == b'\n' {
                    self.next_line();
                } else {
                    self.i += 1;
                }
            }
            // In block context an indicator does not end a plain scalar on its continuation
            // lines: `- x`, `"x`, `[x` or `*x` go on the scalar, as in the full parser. A `: `
            // ends it, and is left to the full parser.
            let (more, end) = self.plain(false)?;
            if end != PlainEnd::Line {
                return Err(Stop::Bail);
            }
            let mut joined = text.into_owned();
            if blank == 0 {
                joined.push(' ');
            } else {
                joined.extend(std::iter::repeat_n('\n', blank));
            }
            joined.push_str(&more);
            text = Cow::Owned(joined);
        }
    }

    /// Whether a plain scalar may start here (no indicator character).
    fn plain_may_start(&self, flow: bool) -> bool {
        match self.peek() {
            None => false,
            Some(b'-' | b'?' | b':') => {
                let next = self.at(self.i + 1);
                !(is_blank_or_end(next)
                    || next == Some(&b'\t')
                    || flow && matches!(next, Some(b',' | b'[' | b']' | b'{' | b'}')))
            }
            Some(
                b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
                | b'"' | b'%' | b'@' | b'`' | b' ' | b'\t' | b'\n',
            ) => false,
            Some(_) => true,
        }
    }

    /// A plain scalar on one line. In block context it ends at the end of the line, at a
    /// comment or at `: `; in flow context also at a flow indicator. The scanner stops at the
    /// `:` or indicator, or after the scalar's last non-blank character.
    fn plain(&mut self, flow: bool) -> R<(Cow<'t, str>, PlainEnd)> {
        let start = self.i;
        let mut end = self.i;
        let how = loop {
            match self.peek() {
                None | Some(b'\n') => break PlainEnd::Line,
                Some(b' ') => {
                    if self.at(self.i + 1) == Some(&b'#') {
                        break PlainEnd::Line;
                    }
                    self.i += 1;
                }
                Some(b':') => {
                    let next = self.at(self.i + 1);
                    if is_blank_or_end(next) {
                        break PlainEnd::Colon;
                    }
                    if flow {
                        // `a:b` or `a:,` in a flow collection: left to the full parser.
                        return Err(Stop::Bail);
                    }
                    self.i += 1;
                    end = self.i;
                }
                Some(b',' | b'[' | b']' | b'{' | b'}') if flow => break PlainEnd::Flow,
                Some(&byte) if byte < 0x20 || byte == 0x7f => return Err(Stop::Bail),
                Some(_) => {
                    self.i += 1;
                    end = self.i;
                }
            }
        };
        let text = &self.text[start..end];
        check_text(text)?;
        self.i = end;
        Ok((Cow::Borrowed(text), how))
    }

    /// A single- or double-quoted scalar; the scanner ends after its closing quote. With
    /// `block`, the value of a block collection at that column, the scalar may go on over
    /// lines indented at least two columns past it, folded as YAML folds them (trailing and
    /// leading blanks dropped, a line break is a space, blank lines are line breaks, an escaped
    /// line break is nothing); otherwise it must end on its line.
    fn quoted(&mut self, block: Option<usize>) -> R<(Cow<'t, str>, ScalarStyle)> {
        let quote = self.b[self.i];
        self.i += 1;
        let start = self.i;
        let mut owned: Option<String> = None;
        let mut run = start;
        // The length of `owned` that trailing blanks are not trimmed from (escapes, folds).
        let mut keep = 0;
        loop {
            let Some(&byte) = self.peek() else {
                return Err(Stop::Bail);
            };
            match byte {
                b'\n' => {
                    let p = block.ok_or(Stop::Bail)?;
                    let out = owned.get_or_insert_with(String::new);
                    out.push_str(&self.text[run..self.i]);
                    while out.len() > keep && out.ends_with([' ', '\t']) {
                        out.pop();
                    }
                    let mut blank = 0;
                    loop {
                        self.next_line();
                        let indent = self.skip_spaces();
                        match self.peek() {
                            Some(b'\n') => blank += 1,
                            Some(_) if indent >= p + 2 && self.peek() != Some(&b'\t') => break,
                            _ => return Err(Stop::Bail),
                        }
                    }
                    if blank == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', blank));
                    }
                    keep = out.len();
                    run = self.i;
                    continue;
                }
                b'\'' if quote == b'\'' => {
                    if self.at(self.i + 1) == Some(&b'\'') {
                        let out = owned.get_or_insert_with(String::new);
                        out.push_str(&self.text[run..=self.i]);
                        self.i += 2;
                        run = self.i;
                        continue;
                    }
                    break;
                }
                b'"' if quote == b'"' => break,
                b'\\' if quote == b'"' => {
                    let out = owned.get_or_insert_with(String::new);
                    out.push_str(&self.text[run..self.i]);
                    self.i += 1;
                    if self.peek() == Some(&b'\n') {
                        // An escaped line break: the next line's leading blanks are dropped.
                        let p = block.ok_or(Stop::Bail)?;
                        self.next_line();
                        let indent = self.skip_spaces();
                        if indent < p + 2 || matches!(self.peek(), None | Some(b'\n' | b'\t')) {
                            return Err(Stop::Bail);
                        }
                    } else {
                        self.escape(out)?;
                    }
                    keep = out.len();
                    run = self.i;
                    continue;
                }
                _ if byte < 0x20 && byte != b'\t' || byte == 0x7f => return Err(Stop::Bail),
                _ => {}
            }
            self.i += 1;
        }
        let tail = &self.text[run..self.i];
        check_text(&self.text[start..self.i])?;
        self.i += 1;
        let style = if quote == b'"' {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::SingleQuoted
        };
        Ok(match owned {
            None => (Cow::Borrowed(tail), style),
            Some(mut out) => {
                out.push_str(tail);
                (Cow::Owned(out), style)
            }
        })
    }

    /// Skips spaces; returns how many.
    fn skip_spaces(&mut self) -> usize {
        let start = self.i;
        while self.peek() == Some(&b' ') {
            self.i += 1;
        }
        self.i - start
    }

    /// Whether the quoted scalar starting here closes on this line. Does not move.
    fn quote_closes_on_line(&self) -> bool {
        let quote = self.b[self.i];
        let mut at = self.i + 1;
        while let Some(&byte) = self.at(at) {
            match byte {
                b'\n' => return false,
                b'\\' if quote == b'"' => at += 1,
                b'\'' if quote == b'\'' && self.at(at + 1) == Some(&b'\'') => at += 1,
                _ if byte == quote => return true,
                _ => {}
            }
            at += 1;
        }
        false
    }

    /// After a `\` in a double-quoted scalar: decodes the escape into `out`.
    fn escape(&mut self, out: &mut String) -> R<()> {
        let Some(&code) = self.peek() else {
            return Err(Stop::Bail);
        };
        self.i += 1;
        let c = match code {
            b'0' => '\0',
            b'a' => '\u{7}',
            b'b' => '\u{8}',
            b't' | b'\t' => '\t',
            b'n' => '\n',
            b'v' => '\u{b}',
            b'f' => '\u{c}',
            b'r' => '\r',
            b'e' => '\u{1b}',
            b' ' => ' ',
            b'"' => '"',
            b'/' => '/',
            b'\\' => '\\',
            b'N' => '\u{85}',
            b'_' => '\u{a0}',
            b'L' => '\u{2028}',
            b'P' => '\u{2029}',
            b'x' | b'u' | b'U' => {
                let len = match code {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let digits = self.text.get(self.i..self.i + len).ok_or(Stop::Bail)?;
                if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
                    return Err(Stop::Bail);
                }
                let value = u32::from_str_radix(digits, 16).map_err(|_| Stop::Bail)?;
                self.i += len;
                char::from_u32(value).ok_or(Stop::Bail)?
            }
            _ => return Err(Stop::Bail),
        };
        out.push(c);
        Ok(())
    }

    /// A literal (`|`) or folded (`>`) block scalar, the value of a node of a block collection
    /// at column `p`. Returns the line after it.
    fn block_scalar(&mut self, p: usize) -> R<Line> {
        let literal = self.b[self.i] == b'|';
        self.i += 1;
        let chomp = match self.peek() {
            Some(&c @ (b'-' | b'+')) => {
                self.i += 1;
                c
            }
            _ => b' ',
        };
        if !matches!(self.peek(), None | Some(b' ' | b'\n')) {
            return Err(Stop::Bail);
        }
        self.skip_line_rest()?;
        // The content's indentation is that of its first line, which must not be blank.
        let mut indent = 0;
        while self.at(self.i + indent) == Some(&b' ') {
            indent += 1;
        }
        if indent < p + 2 || matches!(self.at(self.i + indent), None | Some(b'\n' | b'\t')) {
            return Err(Stop::Bail);
        }
        let pos = self.pos(self.i + indent);
        let mut out = String::new();
        // Line feeds (blank lines included) seen since the last content line.
        let mut breaks = 0usize;
        let mut lines = 0usize;
        loop {
            let mut spaces = 0;
            while self.at(self.i + spaces) == Some(&b' ') {
                spaces += 1;
            }
            match self.at(self.i + spaces) {
                None => {
                    if spaces > 0 {
                        return Err(Stop::Bail);
                    }
                    break;
                }
                Some(b'\n') => {
                    if spaces > indent {
                        return Err(Stop::Bail);
                    }
                    breaks += 1;
                    self.i += spaces;
                    self.next_line();
                    continue;
                }
                Some(_) if spaces < indent => break,
                Some(_) => {}
            }
            let start = self.i + indent;
            let rest = &self.text[start..];
            let len = rest.find('\n').ok_or(Stop::Bail)?;
            let content = &rest[..len];
            check_text(content)?;
            if !literal && content.starts_with([' ', '\t']) {
                return Err(Stop::Bail);
            }
            if lines > 0 {
                if literal || breaks > 1 {
                    for _ in 0..breaks - usize::from(!literal) {
                        out.push('\n');
                    }
                } else {
                    out.push(' ');
                }
            }
            out.push_str(content);
            lines += 1;
            breaks = 1;
            self.i = start + len;
            self.next_line();
        }
        match chomp {
            b'-' => {}
            b'+' => out.extend(std::iter::repeat_n('\n', breaks)),
            _ => out.push('\n'),
        }
        let style = if literal {
            ScalarStyle::Literal
        } else {
            ScalarStyle::Folded
        };
        self.emit(Event::Scalar(Cow::Owned(out), style, 0, None), pos)?;
        self.content_line()
    }

    /// A flow node here, inside a block collection at column `p` (-1 at the root): a flow
    /// sequence or mapping, or a scalar within one.
    fn flow_node(&mut self, p: isize, depth: usize) -> R<()> {
        Self::enter(depth)?;
        let pos = self.here();
        match self.peek() {
            Some(b'[') => {
                self.emit(Event::SequenceStart(0, None), pos)?;
                self.i += 1;
                self.flow_blanks(p)?;
                if self.peek() != Some(&b']') {
                    loop {
                        self.flow_node(p, depth + 1)?;
                        if self.flow_separator(p, b']')? {
                            break;
                        }
                    }
                }
                self.i += 1;
                let pos = self.here();
                self.emit(Event::SequenceEnd, pos)
            }
            Some(b'{') => {
                self.emit(Event::MappingStart(0, None), pos)?;
                self.i += 1;
                self.flow_blanks(p)?;
                if self.peek() != Some(&b'}') {
                    loop {
                        let key_pos = self.here();
                        let (key, style, quoted) = match self.peek() {
                            Some(b'"' | b'\'') => {
                                let (key, style) = self.quoted(None)?;
                                (key, style, true)
                            }
                            _ => {
                                if !self.plain_may_start(true) {
                                    return Err(Stop::Bail);
                                }
                                let (key, end) = self.plain(true)?;
                                if end != PlainEnd::Colon {
                                    return Err(Stop::Bail);
                                }
                                (key, ScalarStyle::Plain, false)
                            }
                        };
                        self.emit(Event::Scalar(key, style, 0, None), key_pos)?;
                        while self.peek() == Some(&b' ') {
                            self.i += 1;
                        }
                        // After a quoted key, JSON's `"key":value` is allowed.
                        if self.peek() != Some(&b':')
                            || !quoted && !is_blank_or_end(self.at(self.i + 1))
                        {
                            return Err(Stop::Bail);
                        }
                        self.i += 1;
                        self.flow_blanks(p)?;
                        if matches!(self.peek(), Some(b',' | b'}')) {
                            return Err(Stop::Bail);
                        }
                        self.flow_node(p, depth + 1)?;
                        if self.flow_separator(p, b'}')? {
                            break;
                        }
                    }
                }
                self.i += 1;
                let pos = self.here();
                self.emit(Event::MappingEnd, pos)
            }
            Some(b'"' | b'\'') => {
                let (text, style) = self.quoted(None)?;
                self.emit(Event::Scalar(text, style, 0, None), pos)?;
                self.after_flow_scalar()
            }
            _ => {
                if !self.plain_may_start(true) {
                    return Err(Stop::Bail);
                }
                let (text, end) = self.plain(true)?;
                if end == PlainEnd::Colon {
                    return Err(Stop::Bail);
                }
                self.emit(Event::Scalar(text, ScalarStyle::Plain, 0, None), pos)?;
                // A plain scalar continued on the next line is left to the full parser.
                while self.peek() == Some(&b' ') {
                    self.i += 1;
                }
                if is_break_or_end(self.peek()) {
                    self.flow_blanks(p)?;
                    if !matches!(self.peek(), Some(b',' | b']' | b'}')) {
                        return Err(Stop::Bail);
                    }
                }
                self.after_flow_scalar()
            }
        }
    }

    /// A scalar in a flow collection must not be followed by `:` (an implicit pair).
    fn after_flow_scalar(&mut self) -> R<()> {
        let mut at = self.i;
        while self.at(at) == Some(&b' ') {
            at += 1;
        }
        if self.at(at) == Some(&b':') {
            return Err(Stop::Bail);
        }
        Ok(())
    }

    /// Blanks, comments and line breaks between the tokens of a flow collection. Lines must be
    /// indented past the enclosing block collection (at column `p`).
    fn flow_blanks(&mut self, p: isize) -> R<()> {
        loop {
            let start = self.i;
            while self.peek() == Some(&b' ') {
                self.i += 1;
            }
            match self.peek() {
                Some(b'\n') => {
                    self.next_line();
                    if self.marker_at_line_start(b"---") || self.marker_at_line_start(b"...") {
                        return Err(Stop::Bail);
                    }
                }
                Some(b'#') if self.i > start || self.i == self.line_start => self.comment()?,
                Some(b'\t') | None => return Err(Stop::Bail),
                Some(_) => {
                    // The full parser wants a line of a flow collection indented past the block
                    // collection around it (exactly how far depends on the context).
                    if p >= 0 && start == self.line_start && (self.i - start) as isize <= p + 1 {
                        return Err(Stop::Bail);
                    }
                    return Ok(());
                }
            }
        }
    }
}

fn is_break_or_end_or_blank(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b'\n' | b' ' | b'\t'))
}

#[cfg(test)]
mod tests {
    //! The scanner's events against the full parser's, event by event with their positions
    //! (the end of a collection or document has no position the decoder uses).

    use proptest::prelude::*;
    use saphyr_parser::Parser;

    use super::*;

    type Events = Vec<(String, Option<Pos>)>;

    fn describe(event: &Event<'_>, pos: Pos) -> (String, Option<Pos>) {
        let pos = match event {
            Event::SequenceEnd | Event::MappingEnd | Event::DocumentEnd => None,
            _ => Some(pos),
        };
        let text = match event {
            Event::DocumentStart(_) => "DocumentStart".to_owned(),
            other => format!("{other:?}"),
        };
        (text, pos)
    }

    /// The full parser's events up to the end of the stream, or `None` on a syntax error.
    fn full_events(text: &str) -> Option<(Events, Pos)> {
        let mut out = Vec::new();
        for next in Parser::new_from_str(text) {
            let (event, span) = next.ok()?;
            let pos = Pos::new(span.start.line() as u32, span.start.col() as u32 + 1);
            match event {
                Event::StreamStart => {}
                Event::StreamEnd => return Some((out, pos)),
                other => out.push(describe(&other, pos)),
            }
        }
        None
    }

    #[derive(Default)]
    struct Record(Events);

    impl Sink for Record {
        fn start_document(&mut self) {
            self.0
                .push(("DocumentStart".to_owned(), Some(Pos::default())));
        }

        fn event(&mut self, event: Event<'_>, pos: Pos) {
            self.0.push(describe(&event, pos));
        }

        fn end_document(&mut self) {
            self.0.push(("DocumentEnd".to_owned(), None));
        }

        fn room(&self) -> bool {
            true
        }

        fn stopped(&self) -> bool {
            false
        }
    }

    /// The scanner's events for the documents before the first it leaves to the full parser,
    /// and how it ended.
    fn fast_events(text: &str) -> (Events, End) {
        let mut record = Record::default();
        let end = scan(text, 0, &mut record);
        if let End::Fallback { .. } = end {
            // Drop the abandoned document's events.
            let last = record.0.iter().rposition(|(e, _)| e == "DocumentEnd");
            record.0.truncate(last.map_or(0, |i| i + 1));
        }
        (record.0, end)
    }

    /// Document starts carry no position.
    fn strip_document_starts(events: &mut Events) {
        for (text, pos) in events.iter_mut() {
            if text == "DocumentStart" {
                *pos = None;
            }
        }
    }

    /// Checks the scanner against the full parser on `text`; true when it scanned all of it.
    fn check(text: &str) -> bool {
        let (mut fast, end) = fast_events(text);
        strip_document_starts(&mut fast);
        match full_events(text) {
            None => {
                // Invalid YAML is always the full parser's to report: the scanner gives up
                // on the document with the error, and gives the documents before it.
                assert!(
                    matches!(end, End::Fallback { .. }),
                    "scanned invalid YAML: {text:?}"
                );
                false
            }
            Some((mut full, stream_end)) => {
                strip_document_starts(&mut full);
                match end {
                    End::Done(pos) => {
                        assert_eq!(fast, full, "events of {text:?}");
                        assert_eq!(pos, stream_end, "end of {text:?}");
                        true
                    }
                    End::Fallback { at, lines } => {
                        assert_eq!(fast, full[..fast.len()], "events before {at} of {text:?}");
                        let before = text[..at].matches('\n').count();
                        assert_eq!(lines as usize, before);
                        assert!(at == 0 || text[..at].ends_with('\n'));
                        false
                    }
                    End::Stopped => unreachable!("the recording sink never stops"),
                }
            }
        }
    }

    #[test]
    fn manifest_constructs() {
        let scanned = [
            "a: 1\nb:\n  c: d # e\n  f: 'g''h'\n  i: \"j\\tk\\u00e9\"\nl:\n- m\n- - n\n  - o\n- p: q\n  r: s\n-\n- \n",
            "# c\n---\na: 1\n---\n---\nb: [1, \"x\", {c: d}, []]\n",
            "a: |\n  x\n   y\n\n  z\nb: >-\n  p\n  q\n\n  r\nc: |+\n  k\n\nd: 1\n",
            "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ],\n  \"c\": {}\n}\n",
            "a:\n  b:\n  c:\n    - x\n  d: é f\n",
            "- a: 1\n  b:\n  - 2\n  -\n    c: 3\n- x: 1\n",
            "a: b\n---",
            "",
            "\n# only a comment\n",
            "a:   # c\nb: \n- x\n",
            "a: b\n  c\n\n   d # e\nf:\n  g\n  h\ni:\n- j\n  k\n",
            "a: \"x  \n  y\\\n   z\\t\n\n  w \"\nb: 'p\n  ''q'' '\nc:\n- \"r\n  s\"\n",
            "a: b\n  - c\n  \"d\n  [e\n  *f\n  :g\n  `h\nl:\n- i\n  - j\n  -k\n",
        ];
        for text in scanned {
            assert!(check(text), "left to the full parser: {text:?}");
        }
        for left in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: b\n c\n",
            "? a\n: b\n",
            "%YAML 1.2\n---\na: 1\n",
            "a:\n\tb: 1\n",
            "a: \"x\n y\"\n",
            "a: 1\r\nb: 2\r\n",
            "a: 1\n...\n",
            "a: [b,\nc]\n",
        ] {
            assert!(!check(left), "scanned {left:?}");
        }
    }

    #[test]
    fn corpus_events_match_the_full_parser() {
        let Some(root) = palisade_testdata::shared("corpus", "corpus_events_match_the_full_parser")
        else {
            return;
        };
        let paths = palisade_testdata::files_with(&root, &["yaml", "yml", "json"]);
        assert!(paths.len() > 1000, "only {} corpus files", paths.len());
        let (mut whole, mut bytes, mut fast_bytes) = (0usize, 0usize, 0usize);
        let mut left = Vec::new();
        for path in &paths {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            bytes += text.len();
            // Scan from every document the scanner leaves, as the decoder does.
            let mut at = 0;
            let mut all = true;
            loop {
                let (_, end) = fast_events(&text[at..]);
                match end {
                    End::Done(_) => {
                        fast_bytes += text.len() - at;
                        break;
                    }
                    End::Fallback { at: doc, .. } => {
                        fast_bytes += doc;
                        all = false;
                        let rest = &text[at + doc..];
                        let next = rest.match_indices("\n---").map(|(i, _)| i + 1).find(|&i| {
                            matches!(rest.as_bytes().get(i + 3), None | Some(b' ' | b'\n'))
                        });
                        let Some(next) = next else { break };
                        at += doc + next;
                    }
                    End::Stopped => unreachable!(),
                }
            }
            check(text);
            if all {
                whole += 1;
            } else {
                left.push(
                    path.strip_prefix(&root)
                        .unwrap_or(path)
                        .display()
                        .to_string(),
                );
            }
        }
        eprintln!(
            "{whole} of {} corpus files scanned whole; {:.1} % of the bytes by the scanner; \
             partly left to the full parser: {left:?}",
            paths.len(),
            100.0 * fast_bytes as f64 / bytes as f64
        );
        assert!(
            whole * 10 >= paths.len() * 9,
            "only {whole} files scanned whole"
        );
    }

    /// YAML in and around the subset: block mappings and sequences of scalars in every style,
    /// flow collections, block scalars, comments, document markers, and the constructs the
    /// scanner leaves to the full parser.
    fn node(depth: u32) -> BoxedStrategy<Vec<String>> {
        let scalar = prop_oneof![
            "[a-z][a-z0-9.-]{0,8}",
            Just("~".to_owned()),
            Just("yes".to_owned()),
            Just("0755".to_owned()),
            Just("1e3".to_owned()),
            Just("-1".to_owned()),
            Just("null".to_owned()),
            Just("a:b".to_owned()),
            Just("a #b".to_owned()),
            Just("http://x/y?z=1".to_owned()),
            Just("'it''s'".to_owned()),
            Just("\"q\\\"\\u00e9\\t\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("x".repeat(300)),
            Just("café ünï".to_owned()),
            Just("[]".to_owned()),
            Just("{}".to_owned()),
            Just("[a, \"b\", 'c', {d: e}]".to_owned()),
            Just("{\"a\":1, b: [2]}".to_owned()),
            Just("&a x".to_owned()),
            Just("*a".to_owned()),
            Just("!!str 1".to_owned()),
            Just("- x".to_owned()),
            Just("a: b".to_owned()),
            Just("\"x".to_owned()),
            Just("[a,".to_owned()),
            Just("x\t".to_owned()),
            Just("".to_owned()),
        ];
        let leaf = (scalar, prop_oneof![Just(""), Just(" # c"), Just("   ")])
            .prop_map(|(s, c)| vec![format!("{s}{c}")])
            .boxed();
        if depth == 0 {
            return leaf;
        }
        let block_scalar = (
            prop_oneof![Just("|"), Just(">"), Just("|-"), Just(">+"), Just("|2")],
            proptest::collection::vec(prop_oneof!["[a-z ]{0,6}", Just(" x".to_owned())], 1..4),
        )
            .prop_map(|(h, lines)| {
                let mut out = vec![h.to_owned()];
                out.extend(lines.into_iter().map(|l| format!("  {l}")));
                out
            });
        // A multi-line plain scalar: continuation lines are marked for `nest`.
        let multi_line = (
            "[a-z]{1,5}( [a-z]{1,5}){0,2}",
            proptest::collection::vec(
                prop_oneof![
                    4 => "[a-z.]{1,5}( [a-z]{1,5}){0,2}",
                    1 => Just(String::new()),
                    1 => Just("a: b".to_owned()),
                    1 => Just("# c".to_owned()),
                    1 => Just("- x".to_owned()),
                ],
                1..4,
            ),
        )
            .prop_map(|(first, lines)| {
                let mut out = vec![first];
                out.extend(lines.into_iter().map(|l| format!("\u{1}{l}")));
                out
            });
        let child = node(depth - 1);
        let key = prop_oneof![
            "[a-z][a-z0-9]{0,5}",
            Just("\"k y\"".to_owned()),
            Just("'q'".to_owned()),
            Just("<<".to_owned()),
            Just("a".to_owned()),
            Just("? a".to_owned()),
        ];
        let mapping = proptest::collection::vec((key, child.clone()), 1..4).prop_map(|entries| {
            let mut out = Vec::new();
            for (key, value) in entries {
                nest(&mut out, &format!("{key}:"), value, true);
            }
            out
        });
        let sequence = proptest::collection::vec(child, 1..4).prop_map(|items| {
            let mut out = Vec::new();
            for item in items {
                nest(&mut out, "-", item, false);
            }
            out
        });
        prop_oneof![
            leaf,
            block_scalar,
            multi_line,
            mapping.clone(),
            mapping,
            sequence
        ]
        .boxed()
    }

    /// Appends `value` under `head` (`key:` or `-`): on the same line when it is one line,
    /// else indented below it (a sequence under a key not indented when its first line has an even length).
    fn nest(out: &mut Vec<String>, head: &str, value: Vec<String>, under_key: bool) {
        let first = &value[0];
        let block_scalar = first.starts_with(['|', '>']);
        let multi_line = value.get(1).is_some_and(|l| l.starts_with('\u{1}'));
        if value.len() == 1 || block_scalar || multi_line || !under_key && !first.starts_with('-') {
            let mut lines = value.into_iter();
            let first = lines.next().unwrap_or_default();
            out.push(format!("{head} {first}").trim_end_matches(' ').to_owned());
            out.extend(lines.map(|l| match l.strip_prefix('\u{1}') {
                Some("") => String::new(),
                Some(l) => format!("    {l}"),
                None => format!("  {l}"),
            }));
            return;
        }
        out.push(head.to_owned());
        let pad = if under_key && first.starts_with('-') && first.len().is_multiple_of(2) {
            ""
        } else {
            "  "
        };
        out.extend(value.into_iter().map(|l| format!("{pad}{l}")));
    }

    fn stream() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            (
                node(3),
                prop_oneof![
                    Just("---\n"),
                    Just("--- # c\n"),
                    Just("\n"),
                    Just("# c\n---\n")
                ],
            ),
            1..4,
        )
        .prop_map(|docs| {
            let mut text = String::new();
            for (lines, sep) in docs {
                for line in lines {
                    text.push_str(&line);
                    text.push('\n');
                }
                text.push_str(sep);
            }
            text
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn generated_yaml_gives_the_full_parser_s_events(text in stream()) {
            check(&text);
        }

        #[test]
        fn cut_and_mutated_yaml_gives_the_full_parser_s_events(
            text in stream(),
            cut in any::<proptest::sample::Index>(),
            insert in prop_oneof![Just(""), Just(" "), Just("\n"), Just(":"), Just("- "), Just("#"), Just("\""), Just("  ")],
        ) {
            let at = cut.index(text.len() + 1);
            let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
            let mutated = format!("{}{insert}{}", &text[..at], &text[at..]);
            check(&mutated);
        }
    }
}
