//! Reading a large file in batches of whole chunks, so that its text is never held whole.
//!
//! [`ChunkReader`] cuts exactly where [`split_stream`](crate::split_stream) cuts the whole
//! text, and refuses an input for the same reasons and at the same place as
//! [`check_text`](crate::check_text): the size limit, NUL bytes at its start, invalid UTF-8.
//! One difference: a stream with a directive (`%YAML`) is cut up to the chunk that holds the
//! directive, and not cut from there on, where `split_stream` does not cut it at all. A
//! directive belongs to the document after it, and every cut ends a document, so the documents
//! decoded are the same.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use crate::limits::Limits;
use crate::load::{
    count_newlines, open_path, position_of_byte, read_error, starts_document, too_large, Chunk,
    LoadError, LoadErrorKind,
};
use crate::pos::Pos;

/// How many bytes are read at a time.
const BLOCK: usize = 1 << 20;

/// How many bytes at the start of an input are searched for NUL bytes.
const HEAD: usize = 8192;

/// Chunks of whole documents of a file, read a batch at a time.
pub struct ChunkReader<R> {
    reader: std::io::Take<R>,
    display: String,
    max_size: u64,
    target: usize,
    block: usize,
    head: usize,
    /// Bytes read and not yet handed out: they start at a line start.
    buf: Vec<u8>,
    /// The room of a batch handed back ([`ChunkReader::recycle`]), for the next.
    spare: Vec<u8>,
    /// Bytes of the input before `buf`.
    before: u64,
    /// Lines of the input before `buf`.
    lines: u32,
    started: bool,
    eof: bool,
    /// A directive was seen: the rest of the input is one chunk.
    whole: bool,
    done: bool,
}

/// Whole chunks of an input: one piece of its text, and where each chunk is in it.
#[derive(Debug)]
pub struct Batch {
    text: String,
    chunks: Vec<(Range<usize>, u32)>,
}

impl Batch {
    /// The chunks, in input order.
    pub fn chunks(&self) -> impl Iterator<Item = Chunk<'_>> + '_ {
        self.chunks.iter().map(|(range, first_line)| Chunk {
            text: &self.text[range.clone()],
            first_line: *first_line,
        })
    }
}

impl ChunkReader<std::fs::File> {
    /// Opens a file, refusing it when it is over the size limit, to be cut into chunks of about
    /// `target` bytes.
    pub fn open(
        path: &Path,
        display: &str,
        limits: &Limits,
        target: usize,
    ) -> Result<Self, LoadError> {
        let (file, _) = open_path(path, display, limits)?;
        Ok(ChunkReader::new(file, display, limits, target))
    }
}

impl<R: Read> ChunkReader<R> {
    /// Reads `reader`, named `display` in errors, to be cut into chunks of about `target` bytes.
    pub fn new(reader: R, display: &str, limits: &Limits, target: usize) -> Self {
        ChunkReader {
            // At most one byte past the limit: the file may grow while it is read.
            reader: reader.take(limits.max_file_size.saturating_add(1)),
            display: display.to_owned(),
            max_size: limits.max_file_size,
            target: target.max(1),
            block: BLOCK,
            head: HEAD,
            buf: Vec::new(),
            spare: Vec::new(),
            before: 0,
            lines: 0,
            started: false,
            eof: false,
            whole: false,
            done: false,
        }
    }

    /// The next chunks, at least `want` bytes of them unless the input ends first; `None` after
    /// the last. An error refuses the whole input: no batch comes after it.
    pub fn next_batch(&mut self, want: usize) -> Result<Option<Batch>, LoadError> {
        if self.done {
            return Ok(None);
        }
        match self.cut(want) {
            Ok(batch) => Ok(Some(batch)),
            Err(error) => {
                self.done = true;
                Err(self.refuse(error))
            }
        }
    }

    /// Hands back a batch once its chunks are decoded: its room holds a later one. Batches
    /// the same size take the same room, which is then neither asked of the system again nor
    /// filled a page at a time again.
    pub fn recycle(&mut self, batch: Batch) {
        let room = batch.text.into_bytes();
        if room.capacity() > self.spare.capacity() {
            self.spare = room;
        }
    }

    fn cut(&mut self, want: usize) -> Result<Batch, LoadError> {
        let mut start = 0;
        if !self.started {
            self.started = true;
            start = self.check_head()?;
        }
        let first = start;
        let mut line = self.lines;
        let mut chunks = Vec::new();
        loop {
            let cut = if self.whole {
                None
            } else {
                self.find_cut(start)?
            };
            let Some(at) = cut else {
                while !self.eof {
                    self.fill()?;
                }
                chunks.push((start..self.buf.len(), line));
                start = self.buf.len();
                self.done = true;
                break;
            };
            if memchr::memmem::find(&self.buf[start..at], b"\n%").is_some() {
                self.whole = true;
                continue;
            }
            chunks.push((start..at, line));
            line += count_newlines(&self.buf[start..at]) as u32;
            start = at;
            if start - first >= want {
                break;
            }
        }
        let mut rest = std::mem::take(&mut self.spare);
        rest.clear();
        rest.extend_from_slice(&self.buf[start..]);
        self.buf.truncate(start);
        let bytes = std::mem::replace(&mut self.buf, rest);
        let (before, lines) = (self.before, self.lines);
        (self.before, self.lines) = (before + start as u64, line);
        let text = String::from_utf8(bytes).map_err(|err| {
            let at = err.utf8_error().valid_up_to();
            let mut pos = position_of_byte(err.as_bytes(), at);
            pos.line += lines;
            self.error(
                pos,
                LoadErrorKind::Encoding,
                format!(
                    "invalid UTF-8 at byte {}; manifests must be UTF-8",
                    before + at as u64
                ),
            )
        })?;
        Ok(Batch { text, chunks })
    }

    /// Reads the start of the input: refuses a binary file, and skips a byte order mark. The
    /// first chunk starts where this says.
    fn check_head(&mut self) -> Result<usize, LoadError> {
        // Enough to tell a byte order mark and a directive after it, too.
        while self.buf.len() < self.head.max(4) && !self.eof {
            self.fill()?;
        }
        let head = &self.buf[..self.buf.len().min(self.head)];
        if let Some(at) = memchr::memchr(0, head) {
            return Err(self.error(
                position_of_byte(&self.buf, at),
                LoadErrorKind::Binary,
                "binary file (contains NUL bytes); not a YAML or JSON manifest".to_owned(),
            ));
        }
        let start = if self.buf.starts_with("\u{feff}".as_bytes()) {
            3
        } else {
            0
        };
        self.whole = self.buf[start..].starts_with(b"%");
        Ok(start)
    }

    /// Where the chunk that starts at `start` ends: at the first line at least `target` bytes
    /// after its start that is a document marker. `None` when the input ends first.
    fn find_cut(&mut self, start: usize) -> Result<Option<usize>, LoadError> {
        let finder = memchr::memmem::Finder::new(b"\n---");
        let mut search = start + self.target - 1;
        loop {
            if let Some(found) = self.buf.get(search..).and_then(|b| finder.find(b)) {
                let line = search + found + 1;
                // Whether the line is a marker depends on the byte after `---`.
                if line + 3 < self.buf.len() || self.eof {
                    if starts_document(&self.buf[line..]) {
                        return Ok(Some(line));
                    }
                    search = line;
                    continue;
                }
                search = line - 1;
            } else if self.eof {
                return Ok(None);
            } else {
                // A marker may begin in the last bytes read.
                search = search.max(self.buf.len().saturating_sub(3));
            }
            self.fill()?;
        }
    }

    /// Reads one more block; at the end of the input, sets `eof`.
    fn fill(&mut self) -> Result<(), LoadError> {
        self.buf.reserve(self.block);
        let read = (&mut self.reader)
            .take(self.block as u64)
            .read_to_end(&mut self.buf)
            .map_err(|err| read_error(&self.display, &err))?;
        self.eof = read < self.block;
        let size = self.before + self.buf.len() as u64;
        if size > self.max_size {
            return Err(self.error(
                Pos::new(1, 1),
                LoadErrorKind::TooLarge,
                too_large(size, self.max_size),
            ));
        }
        Ok(())
    }

    /// The error that refuses the input: `error`, unless the input turns out to be over the
    /// size limit, which is checked first when a file is read whole.
    fn refuse(&mut self, error: LoadError) -> LoadError {
        if matches!(error.kind, LoadErrorKind::TooLarge | LoadErrorKind::Io) {
            return error;
        }
        match std::io::copy(&mut self.reader, &mut std::io::sink()) {
            Err(err) => read_error(&self.display, &err),
            Ok(rest) => {
                let size = self.before + self.buf.len() as u64 + rest;
                if size > self.max_size {
                    self.error(
                        Pos::new(1, 1),
                        LoadErrorKind::TooLarge,
                        too_large(size, self.max_size),
                    )
                } else {
                    error
                }
            }
        }
    }

    fn error(&self, pos: Pos, kind: LoadErrorKind, message: String) -> LoadError {
        LoadError {
            file: self.display.clone(),
            pos,
            kind,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::load::{check_text, split_stream};

    /// Every chunk of `bytes` read through a [`ChunkReader`] (owned, with its first line), or
    /// the error that refused it.
    fn read_chunks(
        bytes: &[u8],
        limits: &Limits,
        (target, want, block, head): (usize, usize, usize, usize),
    ) -> Result<Vec<(String, u32)>, LoadError> {
        let mut reader = ChunkReader::new(bytes, "f.yaml", limits, target);
        reader.block = block;
        // A small head reads the input in small blocks from the start; a NUL byte is searched
        // for in as many bytes as a whole read searches.
        reader.head = if bytes.contains(&0) { HEAD } else { head };
        let mut chunks = Vec::new();
        while let Some(batch) = reader.next_batch(want)? {
            chunks.extend(batch.chunks().map(|c| (c.text.to_owned(), c.first_line)));
        }
        Ok(chunks)
    }

    const PIECES: &[&[u8]] = &[
        b"---\n",
        b"--- \n",
        b"---\t# c\n",
        b"---\r\n",
        b"----\n",
        b"---x\n",
        b" ---\n",
        b"a: 1\n",
        b"b: |\n  ---\n",
        "c: é\n".as_bytes(),
        b"\n",
        b"---",
        b"--",
        b"d: 2",
    ];

    /// Texts built of `PIECES`, maybe after a byte order mark, and sometimes with one of
    /// `odd` (a NUL byte, a byte that is not UTF-8, a directive) among the pieces.
    fn texts(odd: &'static [&'static [u8]]) -> impl Strategy<Value = Vec<u8>> {
        let pieces = proptest::collection::vec(proptest::sample::select(PIECES), 0..80);
        let odd = proptest::option::weighted(0.3, (proptest::sample::select(odd), any::<usize>()));
        (any::<bool>(), pieces, odd).prop_map(|(bom, mut pieces, odd)| {
            if let Some((piece, at)) = odd {
                pieces.insert(at % (pieces.len() + 1), piece);
            }
            let mut text = if bom {
                "\u{feff}".as_bytes().to_vec()
            } else {
                Vec::new()
            };
            text.extend(pieces.concat());
            text
        })
    }

    fn sizes() -> impl Strategy<Value = (usize, usize, usize, usize)> {
        (1usize..40, 0usize..120, 1usize..48, 0usize..64)
    }

    proptest! {
        /// Without directives, the chunks are exactly those `split_stream` cuts from the text
        /// that `check_text` accepts, and an input it refuses is refused with the same error.
        #[test]
        fn reads_what_a_whole_read_gives(
            bytes in texts(&[b"\0", b"\xff"]),
            sizes in sizes(),
            limit in prop_oneof![0u64..400, 400u64..1000],
        ) {
            let limits = Limits { max_file_size: limit, ..Limits::default() };
            let read = read_chunks(&bytes, &limits, sizes);
            // A file read whole is read up to one byte past the limit.
            let kept = bytes.len().min(limit as usize + 1);
            match check_text(&bytes[..kept], "f.yaml", &limits) {
                Ok(text) => {
                    let whole: Vec<(String, u32)> = split_stream(text, sizes.0)
                        .into_iter()
                        .map(|c| (c.text.to_owned(), c.first_line))
                        .collect();
                    prop_assert_eq!(read, Ok(whole));
                }
                Err(error) => prop_assert_eq!(read, Err(error)),
            }
        }

        /// With directives, the chunks before the first directive are those of the same text
        /// without directives, and the rest of the text is one chunk.
        #[test]
        fn a_directive_ends_the_cuts(bytes in texts(&[b"%YAML 1.1\n"]), sizes in sizes()) {
            let limits = Limits::default();
            let text = check_text(&bytes, "f.yaml", &limits).expect("text");
            let read = read_chunks(&bytes, &limits, sizes).expect("chunks");
            let joined: String = read.iter().map(|(t, _)| t.as_str()).collect();
            prop_assert_eq!(joined.as_str(), text);
            let plain = text.replace("\n%", "\n#");
            let cuts: Vec<(String, u32)> = split_stream(&plain, sizes.0)
                .into_iter()
                .map(|c| (c.text.to_owned(), c.first_line))
                .collect();
            let before = read.len() - 1;
            prop_assert_eq!(&read[..before], &cuts[..before]);
            let directive = read.iter().position(|(t, _)| t.contains("\n%"));
            prop_assert!(directive.is_none_or(|at| at == before));
        }
    }
}
