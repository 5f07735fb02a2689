//! `palisade audit`: threat detection on Kubernetes audit events: palisade's own detections
//! (the `EVT` rules, and the per-object rules on the objects that creates and updates carry)
//! and Falco rules files (`--rules`), as text or as Falco's JSON alerts.
//!
//! Exit code: 0, or 1 when an alert at or above `--fail-on` fired, or 2 on input errors (a bad
//! line of the log, an unreadable file, a rules file that does not load).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail};
use clap::{Args, ValueEnum};
use palisade_audit::{read_batches, read_events, Alert, Item, Matching, Priority, RulesLoader};
use palisade_rules::rules::event::{AuditPipeline, EventRunner};
use palisade_rules::Engine;

use crate::config::ConfigArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Falco's text alerts: `time: Priority output`.
    Text,
    /// One JSON alert per line in Falco's format (`time`, `rule`, `priority`, `output`,
    /// `output_fields`, `source`, `tags`, `hostname`), as falcosidekick reads it.
    Json,
}

fn parse_priority(text: &str) -> Result<Priority, String> {
    Priority::parse(text).ok_or_else(|| {
        format!("expected emergency, alert, critical, error, warning, notice, info or debug, got {text:?}")
    })
}

/// Detect threats in audit events (one JSON event per line, EventList documents, .gz files).
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit log files (`-` or nothing: standard input). Gzip-compressed files are read as such.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// A Falco rules file for the `k8s_audit` source (repeatable; loaded in order, later files
    /// append to or override earlier ones).
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: AuditFormat,
    /// Exit 1 when an alert at or above this priority fired.
    #[arg(long, value_name = "PRIORITY", value_parser = parse_priority)]
    pub fail_on: Option<Priority>,
    /// Alert for every matching rule of an event, not only the first (Falco's
    /// `rule_matching: all`).
    #[arg(long)]
    pub all_matches: bool,
    /// Only these rules, categories or `ALL` among palisade's own (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Skip these rules or categories among palisade's own.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Run only the Falco rules of `--rules`, not palisade's own detections.
    #[arg(long)]
    pub no_builtin: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Keep reading the file as it grows, and follow it when the log is rotated (renamed and
    /// replaced by a new file). Runs until interrupted.
    #[arg(long)]
    pub follow: bool,
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let mut loader = RulesLoader::new();
    for path in &args.rules {
        let display = path.display().to_string();
        loader.load_path(path, &display)?;
    }
    let mut ruleset = loader.compile()?;
    for w in &loader.warnings {
        eprintln!("warning: {w}");
    }
    if args.all_matches {
        ruleset.matching = Matching::All;
    }
    let config = args.config.load(None)?.rules;
    let engine = Engine::new(&config, &args.select, &args.ignore)?;
    for w in &engine.warnings {
        eprintln!("warning: {w}");
    }
    let builtin = (!args.no_builtin).then(|| EventRunner::new(std::sync::Arc::new(engine)));
    let mut pipeline = AuditPipeline::new(builtin, ruleset);
    let files = if args.files.is_empty() {
        vec!["-".to_owned()]
    } else {
        args.files.clone()
    };
    if args.follow && (files.len() != 1 || files[0] == "-") {
        bail!("--follow takes exactly one log file");
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut input_errors = 0usize;
    let mut failed = false;
    let mut write_error: Option<std::io::Error> = None;
    let (format, fail_on) = (args.format, args.fail_on);
    // The lines of an event's alerts, and whether one is at or above `--fail-on`.
    let render = move |alerts: Vec<Alert>| {
        let mut text = Vec::new();
        let mut fails = false;
        for alert in alerts {
            fails |= fail_on.is_some_and(|p| alert.priority.at_least(p));
            match format {
                AuditFormat::Text => {
                    text.extend_from_slice(alert.output().as_bytes());
                    text.push(b'\n');
                }
                AuditFormat::Json => alert.write_json_line(&mut text),
            }
        }
        (text, fails)
    };
    let mut write = |(text, fails): (Vec<u8>, bool), out: &mut dyn Write| {
        failed |= fails;
        if let Err(e) = out.write_all(&text) {
            write_error.get_or_insert(e);
        }
    };

    for file in &files {
        let mut reader: Box<dyn BufRead + Send> = if args.follow {
            Box::new(BufReader::with_capacity(
                256 * 1024,
                Follow::open(PathBuf::from(file))
                    .map_err(|e| anyhow!("{file}: cannot read file: {e}"))?,
            ))
        } else {
            match palisade_audit::open(file) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {file}: cannot read file: {e}");
                    input_errors += 1;
                    continue;
                }
            }
        };
        let mut error = |e: &palisade_audit::InputError, out: &mut dyn Write| {
            let _ = out.flush();
            eprintln!("error: {e}");
            input_errors += 1;
        };
        if args.follow {
            // One event at a time, written as soon as it is read.
            read_events(&mut reader, file, &mut |item| match item {
                Item::Event(event) => {
                    write(render(pipeline.alerts(&event)), &mut out);
                    let _ = out.flush();
                }
                Item::Error(e) => error(&e, &mut out),
            });
        } else {
            // Batches of lines, parsed, evaluated and rendered on all cores, the next batch
            // read meanwhile on a thread of its own; output in input order.
            // Each event is evaluated, rendered and freed in one parallel step.
            read_batches(&mut reader, file, &mut |items| {
                let done = pipeline.batch(items, |item, alerts| {
                    let failure = match item {
                        Item::Error(e) => Some(e),
                        Item::Event(_) => None,
                    };
                    (failure, render(alerts))
                });
                for (failure, lines) in done {
                    if let Some(e) = failure {
                        error(&e, &mut out);
                    }
                    write(lines, &mut out);
                }
            });
        }
    }
    out.flush()?;
    if let Some(e) = write_error {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
    }
    Ok(if input_errors > 0 {
        ExitCode::from(2)
    } else if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// A log file read as it grows. When the end is reached and the path now names another file (the
/// log was rotated: renamed, and a new file created) or the file was truncated, reading goes on
/// from the start of the file the path names now.
struct Follow {
    path: PathBuf,
    file: File,
    identity: (u64, u64),
    read: u64,
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn identity(meta: &std::fs::Metadata) -> (u64, u64) {
    (
        0,
        meta.created().map_or(0, |t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        }),
    )
}

impl Follow {
    fn open(path: PathBuf) -> std::io::Result<Follow> {
        let file = File::open(&path)?;
        let identity = identity(&file.metadata()?);
        Ok(Follow {
            path,
            file,
            identity,
            read: 0,
        })
    }

    /// The file to go on with, when the log was rotated or truncated.
    fn reopen_if_rotated(&mut self) -> std::io::Result<bool> {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Ok(false);
        };
        if identity(&meta) != self.identity {
            let file = File::open(&self.path)?;
            self.identity = identity(&file.metadata()?);
            self.file = file;
            self.read = 0;
            return Ok(true);
        }
        if meta.len() < self.read {
            *self = Follow::open(self.path.clone())?;
            return Ok(true);
        }
        Ok(false)
    }
}

impl Read for Follow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.read += n as u64;
                return Ok(n);
            }
            if !self.reopen_if_rotated()? {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
