//! `palisade policy`: policy as code (Gatekeeper ConstraintTemplates and Constraints).
//!
//! `palisade policy test` runs gator `Suite` files (`test.gatekeeper.sh/v1alpha1`) as
//! `gator verify` does: every case of every test, one line per case (and one indented line per
//! audit annotation a ValidatingAdmissionPolicy gives its object), exit 0 when all pass.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, Subcommand};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use palisade_core::rule::{Finding, RuleMeta, Severity};
use palisade_core::{load_path, load_str, Limits, LoadError, Object, Pos};
use palisade_policy::suite::{run_suite, Status};
use palisade_policy::{is_policy, Inventory, Needs, PolicyError, PolicySet, Review};
use palisade_rules::rules::policy::policy_violation::{broken_policy_message, severity_of};
use palisade_rules::{Config, Engine};
use rayon::prelude::*;
use serde_json::{json, Value};

use crate::cmd::scan::ScanOutcome;
use crate::input::{collect, exclude_set, Input, InputArgs};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run Gatekeeper test suites (kind Suite, test.gatekeeper.sh/v1alpha1) like `gator
    /// verify`: exit 0 when every case passes, 1 when one fails.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Suite files, or directories searched for them (default: the current directory).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Print only failing cases and the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(command: PolicyCommand) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Test(args) => test(args),
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// How deep policy and suite directories are searched (a bound against symbolic-link loops).
const MAX_DEPTH: usize = 16;

/// The YAML files under `path`, in a stable order.
fn yaml_files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    yaml_files_within(path, 0, out)
}

fn yaml_files_within(path: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if depth > MAX_DEPTH {
        bail!(
            "{}: nested deeper than {MAX_DEPTH} directories (a symbolic link loop?)",
            path.display()
        );
    }
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden && (entry.is_dir() || is_yaml(&entry)) {
                yaml_files_within(&entry, depth + 1, out)?;
            }
        }
    } else if path.exists() {
        out.push(path.to_owned());
    } else {
        bail!("{}: no such file or directory", path.display());
    }
    Ok(())
}

/// Whether a file may hold a Suite (read cheaply before decoding it).
fn mentions_suite(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains("kind: Suite"))
}

fn test(args: TestArgs) -> anyhow::Result<ExitCode> {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for root in &roots {
        let explicit = root.is_file();
        let mut found = Vec::new();
        yaml_files(root, &mut found)?;
        files.extend(found.into_iter().filter(|f| explicit || mentions_suite(f)));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (mut passed, mut failed, mut skipped, mut suites) = (0usize, 0usize, 0usize, 0usize);
    for file in &files {
        let results = match run_suite(file) {
            Ok(results) => results,
            Err(e) => {
                writeln!(out, "FAIL {}: {e}", file.display())?;
                failed += 1;
                continue;
            }
        };
        if results.is_empty() {
            continue;
        }
        suites += 1;
        for r in results {
            let name = if r.case.is_empty() {
                format!("{} {}", file.display(), r.test)
            } else {
                format!("{} {}/{}", file.display(), r.test, r.case)
            };
            let shown = match r.status {
                Status::Pass => {
                    passed += 1;
                    if !args.quiet {
                        writeln!(out, "ok   {name}")?;
                    }
                    !args.quiet
                }
                Status::Skip => {
                    skipped += 1;
                    if !args.quiet {
                        writeln!(out, "skip {name}")?;
                    }
                    !args.quiet
                }
                Status::Fail(why) => {
                    failed += 1;
                    writeln!(out, "FAIL {name}: {why}")?;
                    true
                }
            };
            if shown {
                for (key, value) in &r.audit_annotations {
                    writeln!(out, "     audit {key}: {}", one_line(value))?;
                }
            }
        }
    }
    if suites == 0 && failed == 0 {
        bail!("no Suite (test.gatekeeper.sh/v1alpha1) found");
    }
    writeln!(
        out,
        "{passed} passed, {failed} failed, {skipped} skipped in {suites} suite(s)"
    )?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `value` on one line: control characters (line breaks among them) escaped.
fn one_line(value: &str) -> Cow<'_, str> {
    if !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// `palisade scan --policy DIR`.
#[derive(Debug, Default, Args)]
pub struct PolicyArgs {
    /// Also evaluate the policies in DIR (a directory or file; repeatable): Gatekeeper
    /// ConstraintTemplates with their Constraints, and ValidatingAdmissionPolicies with their
    /// bindings and parameters. Policies in the scanned input are always evaluated. Each
    /// violation is a POL001 finding named after its policy.
    #[arg(long = "policy", value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
}

/// Marks of a policy in a manifest's text: only files with one are decoded before the scan.
const MARKS: &[&str] = &["gatekeeper.sh/", "ValidatingAdmissionPolicy"];

/// The bytes of an input read before the scan, or why they could not be read.
pub type Read = Result<Vec<u8>, LoadError>;

/// How many bytes of the inputs read to find the marks are held for the scan; those read
/// beyond are read again by the scan.
const PREFETCH_BYTES: usize = 256 << 20;

/// The largest file whose bytes are held for the scan.
const PREFETCH_FILE_BYTES: usize = 1 << 20;

/// Whether an input may hold one of `marks`: a file too large to be held for the scan is
/// searched a block at a time, so that it is not held whole here either; any other input may.
/// A file that cannot be read holds none: the scan says why.
fn may_mention(input: &Input, marks: &[memchr::memmem::Finder<'_>], limits: &Limits) -> bool {
    let Input::File { path, .. } = input else {
        return true;
    };
    // A small file is read whole for the scan anyway: only its size is asked for here.
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    if metadata.len() <= PREFETCH_FILE_BYTES as u64 {
        return true;
    }
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut reader = std::io::Read::take(file, limits.max_file_size.saturating_add(1));
    // A mark may straddle two blocks: the end of one is searched again with the next.
    let overlap = MARKS.iter().map(|m| m.len()).max().unwrap_or(1) - 1;
    let mut buf = vec![0u8; PREFETCH_FILE_BYTES + overlap];
    let mut filled = 0;
    loop {
        match std::io::Read::read(&mut reader, &mut buf[filled..]) {
            Ok(0) => return false,
            Ok(read) => filled += read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
        if marks.iter().any(|m| m.find(&buf[..filled]).is_some()) {
            return true;
        }
        let tail = filled.saturating_sub(overlap);
        buf.copy_within(tail..filled, 0);
        filled -= tail;
    }
}

/// Computes a finding's baseline fingerprint from the value at its pointer.
pub type Fingerprint<'f> = &'f (dyn Fn(&Finding, Option<&serde_json::Value>) -> u64 + Sync);

/// Where an object stands in the input: the input's place in the scan order, then the
/// object's place in it. Objects the scan decodes in parallel are put back in this order.
type Place = (usize, Pos, Option<usize>);

/// When the objects of the input are reviewed.
enum When {
    /// As the scan decodes them (every policy of the input was loaded before the scan, from
    /// the files that mention one); those whose review reads other objects at the end.
    InScan,
    /// After the scan, decoded again from their text: an input that can be read only once
    /// (standard input, a pipe) may hold policies, which apply to every other input too.
    AfterScan,
}

/// POL001 in `scan`: the policies of `--policy` and of the input, and every object of the
/// input reviewed against them. Prepared before the scan ([`PolicyStep::prepare`]), which
/// gives it each object it decodes ([`PolicyStep::check`]), and finished after it
/// ([`PolicyStep::finish`]).
pub struct PolicyStep<'e> {
    engine: &'e Engine,
    meta: &'static RuleMeta,
    /// The severity the configuration gives POL001, if any.
    severity: Option<Severity>,
    when: When,
    set: PolicySet,
    load_errors: Vec<PolicyError>,
    /// Errors decoding the files of `--policy`.
    dir_errors: Vec<LoadError>,
    /// The objects of `--policy`.
    extra: Vec<Object>,
    /// The policies of the input.
    policies: Vec<Object>,
    /// The inputs by name, in scan order.
    inputs: HashMap<String, usize>,
    /// Every reviewed object is kept for `data.inventory`.
    keep_all: bool,
    /// Namespaces are kept (for namespace selectors and `namespaceObject`).
    keep_namespaces: bool,
    /// The objects the policies read besides the one under review, with their place.
    state: Mutex<Vec<(Place, Value)>>,
}

impl<'e> PolicyStep<'e> {
    /// Loads the policies of `--policy` and of the input (only the files that mention a
    /// policy are decoded), unless POL001 is not selected. `inputs` are those the scan reads,
    /// in scan order: their bytes are read here, in parallel, to find the marks of a policy,
    /// and handed back (files up to [`PREFETCH_FILE_BYTES`], up to [`PREFETCH_BYTES`] in all)
    /// so that the scan does not read them again.
    pub fn prepare(
        args: &PolicyArgs,
        inputs: &[Input],
        limits: &Limits,
        engine: &'e Engine,
        config: &Config,
    ) -> anyhow::Result<(Option<PolicyStep<'e>>, Vec<Option<Read>>)> {
        let Some(rule) = engine.rules().iter().find(|r| r.meta().id == "POL001") else {
            return Ok((None, Vec::new()));
        };
        let meta = rule.meta();
        let mut extra = Vec::new();
        let mut dir_errors = Vec::new();
        for dir in &args.dirs {
            let mut files = Vec::new();
            yaml_files(dir, &mut files)?;
            for file in files {
                let loaded = load_path(&file, &file.display().to_string(), limits);
                dir_errors.extend(loaded.errors);
                extra.extend(loaded.objects);
            }
        }
        let when = if inputs.iter().any(Input::is_stream) {
            When::AfterScan
        } else {
            When::InScan
        };
        let (policies, read): (Vec<Object>, Vec<Option<Read>>) = match when {
            When::AfterScan => (Vec::new(), Vec::new()),
            When::InScan => {
                let marks: Vec<memchr::memmem::Finder<'_>> =
                    MARKS.iter().map(memchr::memmem::Finder::new).collect();
                let held = AtomicUsize::new(0);
                let (policies, read): (Vec<Vec<Object>>, Vec<Option<Read>>) = inputs
                    .par_iter()
                    .map(|i| {
                        if !may_mention(i, &marks, limits) {
                            return (Vec::new(), None);
                        }
                        let read = i.read(limits);
                        let policies = match &read {
                            // The marks are ASCII: found in the bytes exactly when in their
                            // text, invalid UTF-8 replaced.
                            Ok(bytes) if marks.iter().any(|m| m.find(bytes).is_some()) => {
                                let text = String::from_utf8_lossy(bytes);
                                let objects = load_str(&text, i.display(), limits).objects;
                                objects
                                    .into_iter()
                                    .filter(|o| is_policy(&o.value))
                                    .collect()
                            }
                            _ => Vec::new(),
                        };
                        // A large file is read again by the scan: little is saved by holding
                        // it, and memory freed by another thread than the one that took it
                        // is not given back at once.
                        let size = read.as_ref().map_or(0, Vec::len);
                        let fits = size <= PREFETCH_FILE_BYTES
                            && held.fetch_add(size, Ordering::Relaxed) + size <= PREFETCH_BYTES;
                        (policies, fits.then_some(read))
                    })
                    .unzip();
                (policies.into_iter().flatten().collect(), read)
            }
        };
        let (set, load_errors) = PolicySet::load(extra.iter().chain(&policies));
        let severity = config
            .severity
            .get(meta.id)
            .or_else(|| config.severity.get(meta.slug))
            .copied();
        let mut step = PolicyStep {
            engine,
            meta,
            severity,
            when,
            keep_all: false,
            keep_namespaces: false,
            set,
            load_errors,
            dir_errors,
            extra,
            policies,
            inputs: inputs
                .iter()
                .enumerate()
                .map(|(n, i)| (i.display().to_owned(), n))
                .collect(),
            state: Mutex::new(Vec::new()),
        };
        step.find_reads();
        Ok((Some(step), read))
    }

    /// Which objects the loaded policies read besides the one under review.
    fn find_reads(&mut self) {
        self.keep_all = self.set.reads_inventory();
        self.keep_namespaces = self.set.reads_namespaces();
    }

    /// Reviews one object the scan decoded, adding its findings to `found`; `true` when the
    /// object's review reads other objects of the input: the scan then gives it back at the
    /// end ([`ScanOutcome::policy_objects`]).
    pub fn check(&self, object: &Object, found: &mut Vec<Finding>) -> bool {
        if !matches!(self.when, When::InScan) || is_policy(&object.value) {
            return false;
        }
        let needs = self.set.needs(&object.value);
        let is_state = self.is_state(&object.value);
        if needs == Needs::Nothing && !is_state {
            return false;
        }
        // Objects rendered from charts and kustomizations are not reviewed.
        let Some(&input) = self.inputs.get(&object.source.path) else {
            return false;
        };
        let needs = if needs != Needs::Nothing && self.engine.suppressed(self.meta.id, object) {
            Needs::Nothing
        } else {
            needs
        };
        // An object given back at the end joins the state there.
        if needs != Needs::State && is_state {
            let place = (input, object.locate(""), object.item);
            if let Ok(mut state) = self.state.lock() {
                state.push((place, object.value.clone()));
            }
        }
        match needs {
            Needs::Nothing => false,
            Needs::State => true,
            Needs::Review => {
                found.extend(self.review(object));
                false
            }
        }
    }

    /// Whether the policies read this object when they review others.
    fn is_state(&self, value: &Value) -> bool {
        if self.keep_all {
            return true;
        }
        let kind = value.get("kind").and_then(Value::as_str);
        (self.keep_namespaces && kind == Some("Namespace")) || self.set.is_param(value)
    }

    /// The findings of one object's review.
    fn review(&self, object: &Object) -> Vec<Finding> {
        let review = match admitted(&object.value) {
            Cow::Borrowed(object) => Review::from_object(object),
            Cow::Owned(object) => Review::from_owned(object),
        };
        let result = self.set.review(&review);
        let pointer = if object.value.pointer("/metadata/name").is_some() {
            "/metadata/name"
        } else {
            ""
        };
        let mut found = Vec::new();
        for v in result.violations {
            let policy = v.constraint();
            found.push(self.finding(object, pointer, v.message, severity_of(&v.action), policy));
        }
        for e in result.errors {
            let message = format!("{}: {}: {}", e.policy, e.kind.as_str(), e.message);
            found.push(self.finding(object, pointer, message, Severity::Low, e.policy.clone()));
        }
        found
    }

    fn finding(
        &self,
        object: &Object,
        pointer: &str,
        message: String,
        severity: Severity,
        policy: String,
    ) -> Finding {
        Finding {
            rule: self.meta,
            severity: self.severity.unwrap_or(severity),
            message,
            file: object.source.path.clone(),
            pos: object.locate(pointer),
            pointer: pointer.to_owned(),
            object: Arc::new(object.reference()),
            document: object.document,
            item: object.item,
            fix: None,
            related: Vec::new(),
            secrets: Vec::new(),
            policy: Some(policy),
        }
    }

    /// Adds the findings of the policies that cannot be used and of the objects whose review
    /// waited for the cluster state (after the scan, every object, when an input could be
    /// read only once).
    pub fn finish(
        mut self,
        input: &InputArgs,
        config: &Config,
        outcome: &mut ScanOutcome,
        fingerprint: Option<Fingerprint<'_>>,
    ) -> anyhow::Result<()> {
        outcome.errors.append(&mut self.dir_errors);
        let (texts, objects) = match self.when {
            When::InScan => {
                let mut state = std::mem::take(&mut *self.state.lock().map_err(|_| {
                    anyhow::anyhow!("the policy step's state was poisoned by a panic")
                })?);
                let objects = std::mem::take(&mut outcome.policy_objects);
                for object in objects.iter().filter(|o| self.is_state(&o.value)) {
                    if let Some(&input) = self.inputs.get(&object.source.path) {
                        let place = (input, object.locate(""), object.item);
                        state.push((place, object.value.clone()));
                    }
                }
                state.sort_by_key(|(place, _)| *place);
                self.set_state(state.into_iter().map(|(_, value)| value));
                (Vec::new(), objects)
            }
            When::AfterScan => {
                let texts = self.texts(input, config, outcome)?;
                let has_marks = texts
                    .iter()
                    .any(|(_, t)| MARKS.iter().any(|m| t.contains(m)));
                if self.extra.is_empty() && !has_marks {
                    return Ok(());
                }
                let limits = input.limits();
                let objects: Vec<Object> = texts
                    .iter()
                    .flat_map(|(name, text)| load_str(text, name, &limits).objects)
                    .collect();
                let (policies, objects): (Vec<Object>, Vec<Object>) =
                    objects.into_iter().partition(|o| is_policy(&o.value));
                (self.set, self.load_errors) = PolicySet::load(self.extra.iter().chain(&policies));
                self.policies = policies;
                self.find_reads();
                self.set_state(objects.iter().map(|o| o.value.clone()));
                let objects = objects
                    .into_iter()
                    .filter(|o| {
                        !self.engine.suppressed(self.meta.id, o)
                            && self.set.needs(&o.value) != Needs::Nothing
                    })
                    .collect();
                (texts.into_iter().map(|(name, _)| name).collect(), objects)
            }
        };
        let print = |finding: Finding, object: &Object| {
            let value = object.value.pointer(&finding.pointer);
            let print = fingerprint.map_or(0, |f| f(&finding, value));
            (finding, print)
        };
        // Policies that cannot be used: those of --policy, and the constraints of the input (the
        // rule's own check reports the input's templates, policies and bindings).
        let from_input = |file: &str| match self.when {
            When::InScan => self.inputs.contains_key(file),
            When::AfterScan => texts.iter().any(|name| name == file),
        };
        let mut found: Vec<(Finding, u64)> = Vec::new();
        for e in &self.load_errors {
            let constraint = e.policy.contains('/')
                && !e.policy.starts_with("ValidatingAdmissionPolicyBinding/");
            if from_input(&e.file) && !constraint {
                continue;
            }
            let object = self
                .extra
                .iter()
                .chain(&self.policies)
                .find(|o| o.source.path == e.file && o.locate(&e.pointer) == e.pos);
            if let Some(object) = object {
                if self.engine.suppressed(self.meta.id, object) {
                    continue;
                }
                let message = broken_policy_message(object.kind(), e);
                let finding = self.finding(
                    object,
                    &e.pointer,
                    message,
                    self.meta.severity,
                    e.policy.clone(),
                );
                found.push(print(finding, object));
            }
        }
        // The objects whose review waited, in input order, reviewed in parallel (and freed
        // there).
        let reviewed: Vec<Vec<(Finding, u64)>> = objects
            .into_par_iter()
            .map(|o| self.review(&o).into_iter().map(|f| print(f, &o)).collect())
            .collect();
        found.extend(reviewed.into_iter().flatten());
        if found.is_empty() {
            return Ok(());
        }
        // The scan's findings are sorted: the new ones are sorted alone and merged in, after
        // the scan's on equal keys (as a stable sort of both, the scan's first, would).
        found.sort_by(|a, b| a.0.sort_key().cmp(&b.0.sort_key()));
        let findings = std::mem::take(&mut outcome.findings);
        let prints = std::mem::take(&mut outcome.fingerprints);
        let total = findings.len() + found.len();
        let mut merged = Vec::with_capacity(total);
        let mut merged_prints = Vec::with_capacity(if fingerprint.is_some() { total } else { 0 });
        let mut scanned = findings
            .into_iter()
            .zip(prints.into_iter().map(Some).chain(std::iter::repeat(None)))
            .peekable();
        let mut found = found.into_iter().peekable();
        loop {
            let scanned_first = match (scanned.peek(), found.peek()) {
                (Some((a, _)), Some((b, _))) => a.sort_key() <= b.sort_key(),
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let (finding, print) = if scanned_first {
                let (finding, print) = scanned.next().expect("peeked");
                (finding, print.unwrap_or(0))
            } else {
                found.next().expect("peeked")
            };
            merged.push(finding);
            if fingerprint.is_some() {
                merged_prints.push(print);
            }
        }
        outcome.findings = merged;
        if fingerprint.is_some() {
            outcome.fingerprints = merged_prints;
        }
        Ok(())
    }

    /// Gives the policies the objects of the input they read besides the one under review
    /// (`values`, in input order): parameter objects, Namespaces, and the whole input as
    /// `data.inventory` when a template reads it (Gatekeeper's inventory is the cluster's
    /// objects: those of `--policy` are not in it).
    fn set_state(&mut self, values: impl Iterator<Item = Value>) {
        let values: Vec<Value> = values.filter(|v| self.is_state(v)).collect();
        self.set.add_params(&values);
        let mut inventory = Inventory::new();
        for value in values {
            inventory.insert(value);
        }
        self.set.set_inventory(inventory);
    }

    /// The text of every input, by name (those that cannot be read again from the scan).
    fn texts(
        &self,
        input: &InputArgs,
        config: &Config,
        outcome: &ScanOutcome,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let limits = input.limits();
        let (inputs, errors) = collect(input, &exclude_set(&config.exclude)?);
        drop(errors); // the scan reported them
        let text_of = |i: &Input| -> Option<String> {
            if i.is_stream() {
                outcome.streamed.get(i.display()).cloned()
            } else {
                i.read(&limits)
                    .ok()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            }
        };
        Ok(inputs
            .iter()
            .filter_map(|i| Some((i.display().to_owned(), text_of(i)?)))
            .collect())
    }
}

/// The taints every Pod tolerates for 300 s once admitted (`DefaultTolerationSeconds`).
const DEFAULT_TOLERATED: [&str; 2] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
];

/// An object as validating admission sees it after the API server's default mutating plugins:
/// `DefaultTolerationSeconds` gives a Pod a 300 s `NoExecute` toleration of each taint of
/// [`DEFAULT_TOLERATED`] that none of its tolerations covers. Policies written against live Pods
/// read `spec.tolerations` as always present.
fn admitted(object: &Value) -> Cow<'_, Value> {
    let is_pod = object["kind"] == "Pod" && object["apiVersion"] == "v1";
    let Some(spec) = object.get("spec").filter(|_| is_pod) else {
        return Cow::Borrowed(object);
    };
    let tolerations = spec["tolerations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let covers = |toleration: &Value, key: &str| {
        let effect = toleration["effect"].as_str().unwrap_or("");
        let any_key = toleration["key"].as_str().unwrap_or("").is_empty()
            && toleration["operator"] == "Exists";
        (any_key || toleration["key"] == key) && (effect.is_empty() || effect == "NoExecute")
    };
    let missing: Vec<Value> = DEFAULT_TOLERATED
        .iter()
        .filter(|key| !tolerations.iter().any(|t| covers(t, key)))
        .map(|key| {
            json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
        })
        .collect();
    if missing.is_empty() {
        return Cow::Borrowed(object);
    }
    let mut object = object.clone();
    let spec = &mut object["spec"];
    match spec["tolerations"].as_array_mut() {
        Some(list) => list.extend(missing),
        None => spec["tolerations"] = Value::Array(missing),
    }
    Cow::Owned(object)
}

#[cfg(test)]
mod admission_tests {
    use super::*;

    #[test]
    fn pods_get_the_default_tolerations_they_lack_and_other_objects_nothing() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": []}});
        let keys = |v: &Value| -> Vec<String> {
            v["spec"]["tolerations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| format!("{}:{}", t["key"].as_str().unwrap(), t["tolerationSeconds"]))
                .collect()
        };
        assert_eq!(
            keys(&admitted(&pod)),
            [
                "node.kubernetes.io/not-ready:300",
                "node.kubernetes.io/unreachable:300"
            ]
        );
        let tolerant = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"tolerations": [
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 60},
            {"key": "gpu", "operator": "Exists"}]}});
        assert_eq!(
            keys(&admitted(&tolerant)),
            [
                "node.kubernetes.io/unreachable:60",
                "gpu:null",
                "node.kubernetes.io/not-ready:300"
            ]
        );
        let everything = json!({"apiVersion": "v1", "kind": "Pod", "spec": {"tolerations": [
            {"operator": "Exists"}]}});
        assert!(matches!(admitted(&everything), Cow::Borrowed(_)));
        let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}});
        assert!(matches!(admitted(&deployment), Cow::Borrowed(_)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large file is searched for the marks a block at a time: a mark is found wherever it
    /// is, across the end of a block too, and a file without one is not decoded.
    #[test]
    fn a_mark_is_found_in_a_large_file_wherever_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        let input = Input::File {
            path: path.clone(),
            display: "big.yaml".to_owned(),
        };
        let marks: Vec<_> = MARKS.iter().map(memchr::memmem::Finder::new).collect();
        let limits = Limits::default();
        let mark = MARKS[0].as_bytes();
        let size = 2 * PREFETCH_FILE_BYTES + 100;
        let mut text = vec![b'#'; size];
        std::fs::write(&path, &text).unwrap();
        assert!(!may_mention(&input, &marks, &limits));
        // The first read fills the block and the overlap; each later one, a block.
        let end = PREFETCH_FILE_BYTES + MARKS[1].len() - 1;
        for at in [
            0,
            end - mark.len(),
            end - 7,
            end - 1,
            end,
            size - mark.len(),
        ] {
            text.fill(b'#');
            text[at..at + mark.len()].copy_from_slice(mark);
            std::fs::write(&path, &text).unwrap();
            assert!(may_mention(&input, &marks, &limits), "mark at {at}");
        }
    }
}
