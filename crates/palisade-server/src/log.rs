//! Structured logs: one JSON object per line, through `tracing`.
//!
//! Standard error is written by a background thread behind a bounded queue. A reader that is
//! slow, stalled or gone never holds up a request: when the queue is full, new lines are dropped
//! and counted (`palisade_log_lines_dropped_total`).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Dispatch;
use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;

/// Lines waiting for the writer thread before new ones are dropped.
const QUEUE_LINES: usize = 4_096;

/// Longest string field written in a log line; longer values are cut (on a character
/// boundary) and end with `...`.
pub(crate) const MAX_FIELD: usize = 512;

/// How long the last clone of a sink waits for queued lines to be written.
const FLUSH_WAIT: Duration = Duration::from_secs(1);

/// Where log lines go. Cloning shares the destination.
#[derive(Clone)]
pub struct LogSink {
    dispatch: Dispatch,
    dropped: Option<ErrorCounter>,
    /// Flushes the queue when the last clone is dropped (for a bounded time).
    _queue: Option<Arc<Queue>>,
}

/// Bytes handed to the queue and bytes the writer thread wrote, to wait for the queue to empty
/// on shutdown without ever waiting on a stalled writer for long.
#[derive(Default)]
struct Progress {
    queued: AtomicU64,
    written: AtomicU64,
}

/// The background writer of a non-blocking sink.
struct Queue {
    progress: Arc<Progress>,
    guard: Option<WorkerGuard>,
}

impl Drop for Queue {
    /// Waits up to [`FLUSH_WAIT`] for the queued lines to be written. When they were, the worker
    /// is shut down; when the writer is stalled, the worker is left behind (it ends with the
    /// process) instead of blocking, or reporting on standard output, as its guard would.
    fn drop(&mut self) {
        let deadline = Instant::now() + FLUSH_WAIT;
        let flushed = loop {
            let progress = &self.progress;
            if progress.written.load(Ordering::Acquire) >= progress.queued.load(Ordering::Acquire) {
                break true;
            }
            if Instant::now() >= deadline {
                break false;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let guard = self.guard.take();
        if !flushed {
            std::mem::forget(guard);
        }
    }
}

/// The writer thread's side: counts what reached the destination.
struct Written<W> {
    inner: W,
    progress: Arc<Progress>,
}

impl<W: io::Write> io::Write for Written<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(bytes)?;
        self.progress.written.fetch_add(n as u64, Ordering::Release);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The request side: counts what the queue accepted (a line it drops is not waited for).
#[derive(Clone)]
struct Queued {
    inner: NonBlocking,
    dropped: ErrorCounter,
    progress: Arc<Progress>,
}

impl io::Write for Queued {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let before = self.dropped.dropped_lines();
        let n = self.inner.write(bytes)?;
        if self.dropped.dropped_lines() == before {
            self.progress.queued.fetch_add(n as u64, Ordering::Release);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<'a> MakeWriter<'a> for Queued {
    type Writer = Queued;

    fn make_writer(&'a self) -> Queued {
        self.clone()
    }
}

impl std::fmt::Debug for LogSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSink")
            .field("dropped", &self.dropped_lines())
            .finish()
    }
}

fn dispatch<W>(writer: W) -> Dispatch
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_max_level(tracing::Level::INFO)
        .with_writer(writer)
        .finish();
    Dispatch::new(subscriber)
}

/// A writer into a shared buffer.
struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for BufferWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl LogSink {
    /// Standard error, written by a background thread; lines are dropped (and counted) while
    /// the queue is full.
    pub fn stderr() -> LogSink {
        LogSink::non_blocking(io::stderr())
    }

    /// Any writer, behind the same bounded queue and background thread as [`LogSink::stderr`].
    pub fn non_blocking<W: io::Write + Send + 'static>(writer: W) -> LogSink {
        let progress = Arc::new(Progress::default());
        let (writer, guard) = NonBlockingBuilder::default()
            .lossy(true)
            .buffered_lines_limit(QUEUE_LINES)
            .thread_name("palisade-log")
            .finish(Written {
                inner: writer,
                progress: progress.clone(),
            });
        let dropped = writer.error_counter();
        LogSink {
            dispatch: dispatch(Queued {
                inner: writer,
                dropped: dropped.clone(),
                progress: progress.clone(),
            }),
            dropped: Some(dropped),
            _queue: Some(Arc::new(Queue {
                progress,
                guard: Some(guard),
            })),
        }
    }

    /// Nowhere (benchmarks).
    pub fn discard() -> LogSink {
        LogSink {
            dispatch: Dispatch::none(),
            dropped: None,
            _queue: None,
        }
    }

    /// An in-memory buffer, written synchronously: for embedding and tests.
    pub fn buffer(buffer: Arc<Mutex<Vec<u8>>>) -> LogSink {
        LogSink {
            dispatch: dispatch(move || BufferWriter(buffer.clone())),
            dropped: None,
            _queue: None,
        }
    }

    /// Runs `emit` (which records `tracing` events) with this sink as the destination.
    pub fn emit<R>(&self, emit: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, emit)
    }

    /// Lines dropped so far because the writer could not keep up.
    pub fn dropped_lines(&self) -> u64 {
        self.dropped
            .as_ref()
            .map_or(0, |counter| counter.dropped_lines() as u64)
    }
}

/// `text` cut to [`MAX_FIELD`] bytes on a character boundary, so that no client-supplied value
/// makes a log line arbitrarily long.
pub(crate) fn capped(text: &str) -> &str {
    if text.len() <= MAX_FIELD {
        return text;
    }
    let mut end = MAX_FIELD;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn buffer_gets_json_lines() {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = LogSink::buffer(buffer.clone());
        sink.emit(|| tracing::info!(n = 2, "hello"));
        sink.emit(|| tracing::error!("bye"));
        let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["message"], "hello");
        assert_eq!(lines[0]["n"], 2);
        assert_eq!(lines[0]["level"], "INFO");
        assert_eq!(lines[1]["level"], "ERROR");
        assert!(lines[1]["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    /// A writer that never returns, like a pipe nobody reads.
    struct Stalled(Arc<std::sync::Barrier>);

    impl io::Write for Stalled {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.0.wait();
            std::thread::park();
            Err(io::Error::other("stalled"))
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_writer_drops_and_counts_lines_instead_of_blocking() {
        let started = Arc::new(std::sync::Barrier::new(2));
        let sink = LogSink::non_blocking(Stalled(started.clone()));
        sink.emit(|| tracing::info!("first"));
        // The writer thread now blocks for ever inside its first write.
        started.wait();
        let lines = QUEUE_LINES as u64 + 1_000;
        for i in 0..lines {
            sink.emit(|| tracing::info!(i, "queued or dropped"));
        }
        assert!(
            sink.dropped_lines() >= 1_000,
            "dropped {}",
            sink.dropped_lines()
        );
        assert!(sink.dropped_lines() <= lines);
        let dropping = Instant::now();
        drop(sink);
        assert!(dropping.elapsed() < FLUSH_WAIT + Duration::from_millis(500));
    }

    #[test]
    fn dropping_the_sink_writes_what_was_queued() {
        let (reader, writer) = io::pipe().unwrap();
        let sink = LogSink::non_blocking(writer);
        for i in 0..100 {
            sink.emit(|| tracing::info!(i, "line"));
        }
        drop(sink);
        let text = io::read_to_string(reader).unwrap();
        assert_eq!(text.lines().count(), 100);
    }

    #[test]
    fn long_fields_are_capped_on_char_boundaries() {
        let long = "é".repeat(MAX_FIELD);
        let cut = capped(&long);
        assert!(cut.len() <= MAX_FIELD && cut.len() >= MAX_FIELD - 1);
        assert_eq!(capped("short"), "short");
    }
}
