//! `palisade scan`: every rule over manifests.

mod baseline;
mod render;

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use clap::builder::TypedValueParser as _;
use clap::Args;
use palisade_core::rule::{Finding, Severity};
use palisade_core::{
    check_text, empty_error, load_chunk, split_stream, Chunk, ChunkReader, Entry, Limits,
    LoadError, NodeBudget, Object, Pos, Redactor, Source,
};
use palisade_report::{write, BaselineSummary, Format, Report, SourceLines, TextOptions};
use palisade_rules::{Config, Engine, Kept};
use rayon::prelude::*;

use crate::cmd::policy::{PolicyStep, Read};
use crate::config::ConfigArgs;
use crate::input::{collect, exclude_set, Input, InputArgs};
use baseline::Baseline;

/// `--format`: one of [`Format::NAMES`], listed in the help and checked by clap.
pub(crate) fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    clap::builder::PossibleValuesParser::new(Format::NAMES)
        .try_map(|name: String| Format::parse(&name).ok_or_else(invalid_value))
}

/// `--fail-on`: a severity name, listed in the help and checked by clap.
pub(crate) fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    clap::builder::PossibleValuesParser::new(Severity::ALL.map(Severity::as_str))
        .try_map(|name: String| Severity::parse(&name).ok_or_else(invalid_value))
}

/// Never returned: the possible values were checked first.
fn invalid_value() -> clap::Error {
    clap::Error::new(clap::error::ErrorKind::InvalidValue)
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub policy: crate::cmd::policy::PolicyArgs,
    /// Output format.
    #[arg(long, short = 'f', default_value = "text", value_parser = format_parser())]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_name = "SEVERITY", value_parser = severity_parser())]
    pub fail_on: Option<Severity>,
    /// Run only these rules (IDs, slugs or categories; comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,
    /// Do not run these rules (IDs, slugs or categories).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print the credentials findings are about in full (they are masked by default, e.g.
    /// `Sup3…(19 chars)`). For a local run only: never in CI, whose logs are kept.
    #[arg(long)]
    pub show_secrets: bool,
    /// Report only the findings that are not in this baseline (written by `--write-baseline`);
    /// the summary counts those it hid and those no longer found.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<String>,
    /// Record the findings of this scan in a baseline file, for `--baseline`. They are then
    /// hidden from the report: the exit code is 0 unless there are input errors.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<String>,
    /// Render this Kustomize directory (`kubectl kustomize`, or `kustomize build`) and scan the
    /// result; findings point to the files the objects came from. Repeatable; without PATHs,
    /// only the kustomizations are scanned.
    #[arg(long, value_name = "DIR")]
    pub kustomize: Vec<String>,
}

/// The masking of credentials for a run's output: none with `--show-secrets`.
pub fn redactor(outcome: &ScanOutcome, show_secrets: bool) -> anyhow::Result<Redactor> {
    Masked::of(outcome).redactor(show_secrets)
}

/// The credentials a run's output masks: those its findings carry and those of the input that
/// none carries.
struct Masked(Vec<String>);

impl Masked {
    fn of(outcome: &ScanOutcome) -> Masked {
        let carried = outcome.findings.iter().flat_map(|f| &f.secrets);
        Masked(carried.chain(&outcome.credentials).cloned().collect())
    }

    fn redactor(&self, show_secrets: bool) -> anyhow::Result<Redactor> {
        if show_secrets {
            return Ok(Redactor::default());
        }
        Redactor::new(&self.0)
            .map_err(|err| anyhow::anyhow!("cannot prepare the masking of credentials: {err}"))
    }
}

/// The result of scanning: findings and errors sorted, with counts.
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub files: usize,
    pub objects: usize,
    pub skipped: usize,
    /// The text of inputs that cannot be read again (standard input, pipes, FIFOs), by name.
    pub streamed: HashMap<String, String>,
    /// Credentials in the input that no finding carries (their rules were not selected or
    /// were suppressed): output masks them too.
    pub credentials: Vec<String>,
    /// Warnings about the input (ignore annotations naming unknown rules), sorted.
    pub warnings: Vec<String>,
    /// The baseline fingerprint of each finding, in the same order, when the scan was asked
    /// for them (empty otherwise).
    pub fingerprints: Vec<u64>,
    /// The objects whose policy review waits for the end of the scan (`PolicyStep::check`).
    pub policy_objects: Vec<Object>,
}

/// Where a finding's offending value is: file, document, item and pointer.
type ValueKey = (String, usize, Option<usize>, String);

#[derive(Default)]
struct FileResult {
    findings: Vec<Finding>,
    errors: Vec<LoadError>,
    kept: Kept,
    credentials: Vec<String>,
    warnings: Vec<String>,
    /// The digest of the offending value of each finding, when fingerprints are asked for.
    values: Vec<(ValueKey, u64)>,
    objects: usize,
    skipped: usize,
    /// Documents decoded (to number the documents of the next chunk of the same file).
    documents: usize,
    /// The name and text of an input that cannot be read again.
    streamed: Option<(String, String)>,
    /// The objects whose policy review waits for the end of the scan.
    policy_objects: Vec<Object>,
}

impl FileResult {
    /// Makes room for the results of `others`, which are then absorbed in order: the findings
    /// and kept objects of a large input are moved once, not at each doubling of their
    /// vectors (on the run's one thread, between the parallel steps). The findings get room
    /// as well for the inventory findings that join them at the end, about one per kept
    /// object (59,512 for 83,790 kept objects on the 100k stream): room never written to
    /// takes address space, not memory, where moving them all into a larger vector would
    /// hold both at once.
    fn reserve_for(&mut self, others: &[FileResult]) {
        let sum = |count: fn(&FileResult) -> usize| others.iter().map(count).sum::<usize>();
        self.findings
            .reserve_exact(sum(|r| r.findings.len()) + sum(|r| r.kept.len()));
        self.kept.reserve(sum(|r| r.kept.objects().len()));
        self.values.reserve_exact(sum(|r| r.values.len()));
        self.credentials.reserve_exact(sum(|r| r.credentials.len()));
    }

    /// Adds the results of a later file, or of a later chunk of the same file.
    fn absorb(&mut self, mut other: FileResult) {
        join(&mut self.findings, &mut other.findings);
        self.errors.append(&mut other.errors);
        self.kept.append(&mut other.kept);
        self.credentials.append(&mut other.credentials);
        self.warnings.append(&mut other.warnings);
        self.values.append(&mut other.values);
        self.objects += other.objects;
        self.skipped += other.skipped;
        self.documents += other.documents;
        self.streamed = self.streamed.take().or(other.streamed);
        self.policy_objects.append(&mut other.policy_objects);
    }
}

/// Appends `from` to `into`, or takes `from` (and its room) when `into` is empty with no more
/// room: the results of one file are then not copied.
fn join<T>(into: &mut Vec<T>, from: &mut Vec<T>) {
    if into.is_empty() && into.capacity() <= from.capacity() {
        std::mem::swap(into, from);
    } else {
        into.append(from);
    }
}

/// Large streams are cut into chunks of about this many bytes, decoded and checked in parallel.
const CHUNK_BYTES: usize = 256 * 1024;

/// Scans the inputs with the engine: files, and chunks of large files, are decoded and checked
/// in parallel as they are read; only objects that inventory rules need are kept, within the
/// run's node budget (a file whose kept objects do not fit is an error, and its objects are not
/// kept).
///
/// For `fix`: Helm charts are not rendered (a fix cannot be written into a template), their
/// templates are skipped with a warning.
pub fn scan(engine: &Engine, input: &InputArgs, config: &Config) -> anyhow::Result<ScanOutcome> {
    let found = Found::collect(input, &[], config)?;
    scan_with(engine, input, found, Charts::Skip, &[], false, None)
}

/// The inputs of a scan, found once before it: the files to read, the errors of the walk, and
/// the bytes of the files already read (by the policy step), in the same order.
struct Found {
    inputs: Vec<Input>,
    errors: Vec<LoadError>,
    read: Vec<Option<Read>>,
}

impl Found {
    /// The inputs of `input` (none when only kustomizations are given), not yet read.
    fn collect(input: &InputArgs, kustomize: &[String], config: &Config) -> anyhow::Result<Found> {
        let exclude = exclude_set(&config.exclude)?;
        let (inputs, errors) = if input.paths.is_empty() && !kustomize.is_empty() {
            (Vec::new(), Vec::new())
        } else {
            collect(input, &exclude)
        };
        Ok(Found {
            inputs,
            errors,
            read: Vec::new(),
        })
    }

    /// Takes the Helm charts out of the inputs ([`render::take_charts`]), and the bytes read of
    /// their templates with them.
    fn take_charts(&mut self) -> Vec<(std::path::PathBuf, String)> {
        let all = self.inputs.clone();
        let charts = render::take_charts(&mut self.inputs);
        if self.read.is_empty() || all.len() == self.inputs.len() {
            return charts;
        }
        let mut read = std::mem::take(&mut self.read).into_iter();
        let mut left = self.inputs.iter().peekable();
        for input in &all {
            let bytes = read.next().flatten();
            if left.peek() == Some(&input) {
                left.next();
                self.read.push(bytes);
            }
        }
        charts
    }
}

/// What to do with the Helm charts among the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Charts {
    /// Render them with `helm template` (when it is on the PATH) and scan the result.
    Render,
    /// Skip their templates, with a warning.
    Skip,
}

/// [`scan`], which also computes each finding's baseline fingerprint when `fingerprints` is
/// set: the offending values are read as objects go by, since most are not kept.
///
/// Helm charts among the inputs are rendered with `helm template` (their templates are not
/// YAML), and each of `kustomize` with Kustomize; findings on rendered objects are then moved
/// to the files they came from.
fn scan_with(
    engine: &Engine,
    input: &InputArgs,
    mut found: Found,
    charts_mode: Charts,
    kustomize: &[String],
    fingerprints: bool,
    policies: Option<&PolicyStep<'_>>,
) -> anyhow::Result<ScanOutcome> {
    let limits = input.limits();
    let charts = found.take_charts();
    let Found {
        inputs,
        errors,
        mut read,
    } = found;
    read.resize_with(inputs.len(), || None);
    let mut renders = render::Renders::default();
    match charts_mode {
        Charts::Render => render::render_charts(&charts, &limits, &mut renders),
        Charts::Skip => renders.notices.extend(charts.iter().map(|(_, shown)| {
            format!(
                "{shown}: a Helm chart, whose templates/ are not fixed: they are not YAML \
                 until rendered"
            )
        })),
    }
    for dir in kustomize {
        render::render_kustomization(dir, &limits, &mut renders);
    }
    let run = NodeBudget::run(&limits);
    let mut results: Vec<FileResult> = inputs
        .par_iter()
        .zip(read)
        .map(|(source, read)| match read {
            Some(read) => scan_file(engine, source, read, &limits, &run, fingerprints, policies),
            None => scan_input(engine, source, &limits, &run, fingerprints, policies),
        })
        .collect();
    results.extend(renders.rendered.iter().map(|rendered| {
        scan_bytes(
            engine,
            &rendered.display,
            rendered.text.as_bytes(),
            true,
            &limits,
            &run,
            fingerprints,
            policies,
        )
    }));
    let mut all = FileResult {
        errors,
        ..FileResult::default()
    };
    all.errors.append(&mut renders.errors);
    all.warnings.append(&mut renders.notices);
    all.reserve_for(&results);
    let mut streamed = HashMap::new();
    for mut result in results {
        streamed.extend(result.streamed.take());
        all.absorb(result);
    }
    let FileResult {
        mut findings,
        mut errors,
        kept,
        credentials,
        mut warnings,
        values,
        objects,
        skipped,
        policy_objects,
        ..
    } = all;
    let mut values: HashMap<ValueKey, u64> = values.into_iter().collect();
    if engine.has_inventory_rules() {
        crate::purge_freed_memory();
        let start = findings.len();
        engine.check_kept_into(&kept, &mut findings);
        if fingerprints {
            let objects: HashMap<_, _> = kept
                .objects()
                .iter()
                .map(|o| ((o.source().path.as_str(), o.document(), o.item()), o))
                .collect();
            for f in &findings[start..] {
                let object = objects.get(&(f.file.as_str(), f.document, f.item));
                let value = object.and_then(|o| o.value_at(&f.pointer));
                values.insert(value_key(f), baseline::value_digest(value.as_deref()));
            }
        }
    }
    crate::purge_freed_memory();
    // A Pod Security check and a hardening rule that find the same field are one problem.
    let mut findings = engine.merge_same_control(findings);
    // Freeing hundreds of thousands of small values takes a while; nothing waits for it.
    std::thread::spawn(move || drop(kept));
    sort_findings(&mut findings);
    errors.sort_by(|a, b| (&a.file, a.pos, &a.message).cmp(&(&b.file, b.pos, &b.message)));
    warnings.sort();
    let mut fingerprints: Vec<u64> = if fingerprints {
        let missing = baseline::value_digest(None);
        findings
            .iter()
            .map(|f| {
                let value = values.get(&value_key(f)).copied().unwrap_or(missing);
                baseline::fingerprint(f, value)
            })
            .collect()
    } else {
        Vec::new()
    };
    if !renders.rendered.is_empty() {
        render::remap(&mut findings, &renders.rendered, &limits);
        if fingerprints.is_empty() {
            findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        } else {
            let mut paired: Vec<(Finding, u64)> = findings.into_iter().zip(fingerprints).collect();
            paired.sort_by(|a, b| a.0.sort_key().cmp(&b.0.sort_key()));
            (findings, fingerprints) = paired.into_iter().unzip();
        }
    }
    Ok(ScanOutcome {
        findings,
        errors,
        files: inputs.len() + renders.rendered.len(),
        objects,
        skipped,
        streamed,
        credentials,
        warnings,
        fingerprints,
        policy_objects,
    })
}

/// Sorts findings by [`Finding::sort_key`], stably: see [`sort_moving_once`].
fn sort_findings(findings: &mut [Finding]) {
    sort_moving_once(findings, |a, b| a.sort_key().cmp(&b.sort_key()));
}

/// A stable sort that moves each item once: the indexes are sorted (on every core: rayon's
/// stable sort then takes a buffer of indexes), then each item goes to its place. Sorting large
/// items themselves moves them many times and takes a buffer half their size (rayon's parallel
/// sort, one their size).
fn sort_moving_once<T: Sync>(
    items: &mut [T],
    compare: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) {
    let Ok(len) = u32::try_from(items.len()) else {
        items.sort_by(compare);
        return;
    };
    let mut order: Vec<u32> = (0..len).collect();
    let sorted: &[T] = items;
    order.par_sort_by(|&a, &b| compare(&sorted[a as usize], &sorted[b as usize]));
    // The item at `order[i]` goes to `i`: follow each cycle of the permutation.
    for start in 0..items.len() {
        let mut current = start;
        loop {
            let next = order[current] as usize;
            order[current] = current as u32;
            if next == start {
                break;
            }
            items.swap(current, next);
            current = next;
        }
    }
}

fn value_key(f: &Finding) -> ValueKey {
    (f.file.clone(), f.document, f.item, f.pointer.clone())
}

fn scan_file(
    engine: &Engine,
    input: &Input,
    read: Read,
    limits: &Limits,
    run: &NodeBudget,
    fingerprints: bool,
    policies: Option<&PolicyStep<'_>>,
) -> FileResult {
    match read {
        Ok(bytes) => scan_bytes(
            engine,
            input.display(),
            &bytes,
            input.is_stream(),
            limits,
            run,
            fingerprints,
            policies,
        ),
        Err(error) => FileResult {
            errors: vec![error],
            ..FileResult::default()
        },
    }
}

/// Scans one input not read before: a file larger than [`STREAM_FILE_BYTES`] is read a batch
/// of chunks at a time ([`scan_large_file`]), any other input whole.
fn scan_input(
    engine: &Engine,
    input: &Input,
    limits: &Limits,
    run: &NodeBudget,
    fingerprints: bool,
    policies: Option<&PolicyStep<'_>>,
) -> FileResult {
    if let Input::File { path, display } = input {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if size > STREAM_FILE_BYTES {
            let checks = FileScan::new(engine, display, limits, fingerprints, policies);
            return scan_large_file(checks, path, display, limits, run);
        }
    }
    scan_file(
        engine,
        input,
        input.read(limits),
        limits,
        run,
        fingerprints,
        policies,
    )
}

/// Files over this size are read a batch at a time: their text is never held whole.
const STREAM_FILE_BYTES: u64 = BATCH_BYTES as u64;

/// The chunks of a large file decoded and checked together: while they are, the next batch
/// is read.
const BATCH_BYTES: usize = 32 * CHUNK_BYTES;

/// Scans a large file a batch of chunks at a time. An input refused for its size or its
/// encoding gives only that error, as when it is read whole.
fn scan_large_file(
    mut checks: FileScan<'_>,
    path: &std::path::Path,
    display: &str,
    limits: &Limits,
    run: &NodeBudget,
) -> FileResult {
    let refused = |error| FileResult {
        errors: vec![error],
        ..FileResult::default()
    };
    let mut reader = match ChunkReader::open(path, display, limits, CHUNK_BYTES) {
        Ok(reader) => reader,
        Err(error) => return refused(error),
    };
    let mut next = reader.next_batch(BATCH_BYTES);
    loop {
        let batch = match next {
            Ok(Some(batch)) => batch,
            Ok(None) => break,
            Err(error) => return refused(error),
        };
        if checks.budget.is_spent() {
            break;
        }
        (next, ()) = rayon::join(
            || reader.next_batch(BATCH_BYTES),
            || checks.add(batch.chunks().collect()),
        );
        reader.recycle(batch);
    }
    checks.finish(display, run, None)
}

/// Scans the bytes of one input; `stream` says that they cannot be read again (so code frames
/// need the text kept).
#[allow(clippy::too_many_arguments)]
fn scan_bytes(
    engine: &Engine,
    display: &str,
    bytes: &[u8],
    stream: bool,
    limits: &Limits,
    run: &NodeBudget,
    fingerprints: bool,
    policies: Option<&PolicyStep<'_>>,
) -> FileResult {
    let streamed = stream.then(|| {
        (
            display.to_owned(),
            String::from_utf8_lossy(bytes).into_owned(),
        )
    });
    let text = match check_text(bytes, display, limits) {
        Ok(text) => text,
        Err(error) => {
            return FileResult {
                errors: vec![error],
                streamed,
                ..FileResult::default()
            }
        }
    };
    let mut checks = FileScan::new(engine, display, limits, fingerprints, policies);
    checks.add(split_stream(text, CHUNK_BYTES));
    checks.finish(display, run, streamed)
}

/// The chunks of one file, decoded and checked in parallel, and their results in file order.
struct FileScan<'a> {
    engine: &'a Engine,
    limits: &'a Limits,
    fingerprints: bool,
    policies: Option<&'a PolicyStep<'a>>,
    source: std::sync::Arc<Source>,
    budget: NodeBudget,
    parts: Vec<FileResult>,
}

impl<'a> FileScan<'a> {
    fn new(
        engine: &'a Engine,
        display: &str,
        limits: &'a Limits,
        fingerprints: bool,
        policies: Option<&'a PolicyStep<'a>>,
    ) -> Self {
        FileScan {
            engine,
            limits,
            fingerprints,
            policies,
            source: Source::new(display),
            budget: NodeBudget::file(limits),
            parts: Vec::new(),
        }
    }

    /// Decodes and checks the next chunks of the file.
    fn add(&mut self, chunks: Vec<Chunk<'_>>) {
        let FileScan {
            engine,
            limits,
            fingerprints,
            policies,
            ref source,
            ref budget,
            ..
        } = *self;
        let parts = chunks.into_par_iter().map(|chunk| {
            let mut part = FileResult::default();
            // Baseline fingerprints hash the value at any field a finding points to: the
            // objects are then kept whole.
            if fingerprints {
                part.kept = Kept::whole();
            }
            part.documents = load_chunk(chunk, source, limits, budget, &mut |entry| match entry {
                Entry::Object(object) => {
                    part.objects += 1;
                    part.warnings.extend(engine.ignore_warnings(&object));
                    let mut found = engine.check_object(&object);
                    if policies.is_some_and(|p| p.check(&object, &mut found)) {
                        part.policy_objects.push(object.clone());
                    }
                    if fingerprints {
                        part.values.extend(found.iter().map(|f| {
                            let value = object.value.pointer(&f.pointer);
                            (value_key(f), baseline::value_digest(value))
                        }));
                    }
                    part.findings.extend(found);
                    part.credentials
                        .extend(engine.unreported_credentials(&object));
                    engine.keep(object, &mut part.kept);
                }
                Entry::Error(error) => part.errors.push(error),
                Entry::Skipped => part.skipped += 1,
            });
            part
        });
        self.parts.par_extend(parts);
    }

    /// The results of the whole file: the file refused when it crossed its node budget, or its
    /// kept objects when they do not fit in the run's.
    fn finish(
        self,
        display: &str,
        run: &NodeBudget,
        streamed: Option<(String, String)>,
    ) -> FileResult {
        let parallel = self.parts.len() > 1;
        let mut file = FileResult {
            streamed,
            ..FileResult::default()
        };
        file.reserve_for(&self.parts);
        for mut part in self.parts {
            for finding in &mut part.findings {
                finding.document += file.documents;
            }
            part.kept.renumber(file.documents);
            for object in &mut part.policy_objects {
                object.document += file.documents;
            }
            for ((_, document, _, _), _) in &mut part.values {
                *document += file.documents;
            }
            file.absorb(part);
        }
        if let Some(mut error) = self.budget.error(display) {
            // Which of the chunks decoded in parallel crosses the budget depends on timing: the
            // file as a whole is refused, at its start, so that every run reports the same place.
            if parallel {
                error.pos = Pos::new(1, 1);
            }
            return FileResult {
                errors: vec![error],
                streamed: file.streamed,
                ..FileResult::default()
            };
        }
        if let Err(error) = file.kept.hold(run) {
            file.kept.clear();
            file.errors.push(error);
        }
        if file.objects == 0 && file.errors.is_empty() && file.skipped == 0 {
            file.errors.push(empty_error(display));
        }
        file
    }
}

/// Source lines for code frames: files are read again only when a finding is in them, and only
/// the lines findings are on are kept of them; inputs that cannot be read again come from the
/// text the scan kept.
struct LineCache {
    streamed: HashMap<String, String>,
    /// The lines findings are on, by file, sorted.
    wanted: HashMap<String, Vec<u32>>,
    files: RefCell<HashMap<String, Option<HashMap<u32, String>>>>,
}

impl LineCache {
    fn new(streamed: HashMap<String, String>, findings: &[Finding]) -> Self {
        let mut wanted: HashMap<String, Vec<u32>> = HashMap::new();
        for f in findings.iter().filter(|f| !streamed.contains_key(&f.file)) {
            wanted.entry(f.file.clone()).or_default().push(f.pos.line);
        }
        for lines in wanted.values_mut() {
            lines.sort_unstable();
            lines.dedup();
        }
        LineCache {
            streamed,
            wanted,
            files: RefCell::default(),
        }
    }
}

/// The lines of a text as the loader counts them: a line ends at `\n`, `\r\n` or a lone `\r`.
fn source_lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_terminator('\n')
        .flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

/// The lines numbered `wanted` (sorted) of a file, counted as [`source_lines`] counts them, read
/// a line at a time: a large file is not held whole.
fn read_lines(path: &str, wanted: &[u32]) -> Option<HashMap<u32, String>> {
    let mut reader = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let mut found = HashMap::with_capacity(wanted.len());
    let mut next = wanted.iter().copied().peekable();
    let mut number = 0u32;
    let mut buf = Vec::new();
    while next.peek().is_some() {
        buf.clear();
        if std::io::BufRead::read_until(&mut reader, b'\n', &mut buf).ok()? == 0 {
            break;
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        for line in line.split(|&b| b == b'\r') {
            number += 1;
            if next.next_if_eq(&number).is_some() {
                found.insert(number, String::from_utf8(line.to_vec()).ok()?);
            }
        }
    }
    Some(found)
}

impl SourceLines for LineCache {
    fn line(&self, file: &str, line: u32) -> Option<String> {
        if let Some(text) = self.streamed.get(file) {
            return source_lines(text)
                .nth(line.checked_sub(1)? as usize)
                .map(str::to_owned);
        }
        let mut files = self.files.borrow_mut();
        let lines = files
            .entry(file.to_owned())
            .or_insert_with(|| read_lines(file, self.wanted.get(file).map_or(&[], Vec::as_slice)));
        lines.as_ref()?.get(&line).cloned()
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load(None)?.rules;
    let engine = Engine::new(&config, &args.select, &args.ignore)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    // A baseline that cannot be read stops the run before the scan.
    let baseline = args.baseline.as_deref().map(Baseline::read).transpose()?;
    let fingerprints = baseline.is_some() || args.write_baseline.is_some();
    // Policy as code: POL001 findings from `--policy` and the policies in the input, the
    // objects reviewed as the scan decodes them.
    let mut found = Found::collect(&args.input, &args.kustomize, &config)?;
    let limits = args.input.limits();
    let (policies, read) =
        PolicyStep::prepare(&args.policy, &found.inputs, &limits, &engine, &config)?;
    found.read = read;
    let mut outcome = scan_with(
        &engine,
        &args.input,
        found,
        Charts::Render,
        &args.kustomize,
        fingerprints,
        policies.as_ref(),
    )?;
    let print = |f: &Finding, v: Option<&serde_json::Value>| {
        baseline::fingerprint(f, baseline::value_digest(v))
    };
    let print: Option<crate::cmd::policy::Fingerprint<'_>> = fingerprints.then_some(&print);
    // Masks the credentials of every finding, hidden by the baseline or not: they may show in
    // the code frame of another. The policy step's findings carry none: the masking is
    // prepared while it finishes.
    let (redactor, finished) = match policies {
        Some(policies) => {
            let masked = Masked::of(&outcome);
            std::thread::scope(|scope| {
                let redactor = scope.spawn(|| masked.redactor(args.show_secrets));
                let finished = policies.finish(&args.input, &config, &mut outcome, print);
                let redactor = redactor
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (redactor, finished)
            })
        }
        None => (redactor(&outcome, args.show_secrets), Ok(())),
    };
    finished?;
    let redactor = redactor?;
    let rules: Vec<_> = engine.rules().iter().map(|r| r.meta()).collect();
    let baseline = match &args.write_baseline {
        Some(path) => {
            // The baseline never holds a credential, whatever `--show-secrets` says.
            let masking = self::redactor(&outcome, false)?;
            let text = baseline::render(&outcome.findings, &outcome.fingerprints, &masking);
            baseline::write_atomically(path, &text)?;
            eprintln!(
                "wrote the baseline {path}: {} finding{}",
                outcome.findings.len(),
                if outcome.findings.len() == 1 { "" } else { "s" }
            );
            Some(Baseline::of(&outcome.fingerprints))
        }
        None => baseline,
    };
    let applied = baseline.map(|baseline| {
        let findings = std::mem::take(&mut outcome.findings);
        let fingerprints = std::mem::take(&mut outcome.fingerprints);
        let (kept, applied) = baseline.apply(findings, &fingerprints);
        outcome.findings = kept;
        applied
    });
    let mut summary = Report::summarize(
        &outcome.findings,
        &outcome.errors,
        outcome.files,
        outcome.objects,
        outcome.skipped,
    );
    summary.baseline = applied.map(|applied| BaselineSummary {
        hidden: applied.hidden,
        gone: applied.gone,
    });
    let warnings: Vec<String> = engine
        .warnings
        .iter()
        .chain(&outcome.warnings)
        .cloned()
        .collect();
    let report = Report {
        findings: &outcome.findings,
        errors: &outcome.errors,
        warnings: &warnings,
        rules: &rules,
        summary,
        redactor: &redactor,
    };
    let format = args.format;
    let cache = LineCache::new(outcome.streamed.clone(), &outcome.findings);
    let options = TextOptions {
        sources: Some(&cache),
    };
    match args.output.as_deref() {
        Some(path) => {
            let file: Box<dyn Write> =
                Box::new(std::io::BufWriter::new(std::fs::File::create(path)?));
            // Only the text report has colours; they are stripped on the way to a file.
            let mut file: Box<dyn Write> = if format == Format::Text {
                Box::new(anstream::StripStream::new(file))
            } else {
                file
            };
            write(&report, format, &options, &mut file)?;
            file.flush()?;
        }
        // Standard output strips the colours when it is not a terminal that shows them.
        None => {
            let mut out = std::io::BufWriter::new(anstream::stdout().lock());
            let written = write(&report, format, &options, &mut out).and_then(|()| out.flush());
            if let Err(err) = written {
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(err.into());
                }
            }
        }
    }
    let code = exit_code(&outcome, fail_on);
    // The report is written: the findings are freed on another thread, which the end of the
    // process does not wait for.
    drop(cache);
    std::thread::spawn(move || drop(outcome));
    Ok(code)
}

/// Writes a report to a file (without colours) or to standard output (colours only on a
/// terminal, and never with `NO_COLOR`).
pub fn write_output(text: &str, output: Option<&str>) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let plain = anstream::adapter::strip_str(text).to_string();
            std::fs::write(path, plain)?;
        }
        None => {
            let mut out = anstream::stdout();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }
    Ok(())
}

fn exit_code(outcome: &ScanOutcome, fail_on: Severity) -> ExitCode {
    if !outcome.errors.is_empty() {
        ExitCode::from(2)
    } else if outcome.findings.iter().any(|f| f.severity >= fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::{read_lines, sort_moving_once, source_lines};

    /// A file read again for code frames is cut into lines as the loader cuts them (`\n`,
    /// `\r\n`, a lone `\r`, a last line without an end), and only the lines asked for are
    /// kept.
    #[test]
    fn lines_read_again_are_the_lines_the_loader_counts() {
        let text = "\u{feff}a: 1\r\nb: 2\rc: 3\n\n\rd: \u{e9}\r\n\re\n  f: 4";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.yaml");
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap();
        let all: Vec<&str> = source_lines(text).collect();
        assert_eq!(all.len(), 9);
        let wanted: Vec<u32> = (1..=10).collect();
        let read = read_lines(path, &wanted).unwrap();
        assert_eq!(read.len(), all.len());
        for (n, line) in all.iter().enumerate() {
            assert_eq!(read[&(n as u32 + 1)], *line, "line {}", n + 1);
        }
        let some = read_lines(path, &[3, 6]).unwrap();
        assert_eq!(some.len(), 2);
        assert_eq!(
            (some[&3].as_str(), some[&6].as_str()),
            ("c: 3", "d: \u{e9}")
        );
    }

    #[test]
    fn sorting_indexes_gives_the_stable_sort() {
        let mut state = 1u64;
        for len in [0usize, 1, 2, 3, 10, 100, 1000] {
            for keys in [2u64, 10, 1000] {
                let items: Vec<(u64, usize)> = (0..len)
                    .map(|i| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1);
                        ((state >> 33) % keys, i)
                    })
                    .collect();
                let mut expected = items.clone();
                expected.sort_by_key(|item| item.0);
                let mut sorted = items;
                sort_moving_once(&mut sorted, |a, b| a.0.cmp(&b.0));
                assert_eq!(sorted, expected, "{len} items, {keys} keys");
            }
        }
    }
}
