//! `palisade cluster scan`: every rule over the objects of a live cluster; `palisade cluster
//! watch`: the same, kept up to date from watches and published as PolicyReports.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use palisade_cluster::{
    connect, discover, fold_with, list, object_url, ConnectOptions, ListOptions, Listed, OrderKey,
    OrderKeys, Owners, Present, ResourceType,
};
use palisade_core::rule::{Finding, Severity};
use palisade_core::{LoadError, LoadErrorKind, Object, ObjectRef, Pos, Redactor};
use palisade_report::{render, write, Format, Report, TextOptions};
use palisade_rules::{Engine, Kept, Rule};
use tokio::sync::mpsc;

use crate::cmd::scan::{format_parser, severity_parser};
use crate::config::ConfigArgs;

mod cache;
mod scope;
mod watch;

pub use watch::ClusterWatchArgs;

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Check the objects of the cluster against every rule, as `scan` checks manifests.
    Scan(ClusterScanArgs),
    /// Keep checking: watch the objects, re-evaluate what changes and publish the findings as
    /// PolicyReports (wgpolicyk8s.io/v1alpha2) and Prometheus metrics; with leader election,
    /// so that only one replica writes reports.
    Watch(ClusterWatchArgs),
}

/// How to reach the cluster: as `kubectl` does.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The kubeconfig file (default: `KUBECONFIG`, then ~/.kube/config, then the pod's
    /// service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of the current one.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// How long one request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
}

impl ConnectArgs {
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            timeout: Some(Duration::from_secs(self.request_timeout.max(1))),
        }
    }
}

#[derive(Debug, Args)]
pub struct ClusterScanArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only this namespace (cluster-scoped objects are still read for the analyses that need
    /// them, and only this namespace's findings are reported). Default: every namespace.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Objects per page of a list.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub chunk_size: u32,
    /// Resource types listed at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    /// List Secrets, with their data, for the rules that read them (values are never printed).
    /// Without it Secrets are not requested at all, and the rules that read only Secrets are
    /// reported as not run: the documented read-only role grants nothing on Secrets
    /// (deploy/scanner/secrets.yaml is the opt-in role that lets the scanner list them).
    #[arg(long)]
    pub secret_data: bool,
    /// Report every object's findings, also those of Pods and ReplicaSets that are the same as
    /// their owner's.
    #[arg(long)]
    pub no_owner_folding: bool,
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
    /// Print the credentials findings are about in full (masked by default).
    #[arg(long)]
    pub show_secrets: bool,
}

pub fn run(command: ClusterCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClusterCommand::Scan(args) => scan(args),
        ClusterCommand::Watch(args) => watch::run(args),
    }
}

/// The kinds the selected rules read. A rule that reads every kind reads, in a cluster, the
/// kinds that any rule of palisade reads (a cluster serves many kinds no rule knows).
pub fn kinds_read(engine: &Engine) -> BTreeSet<String> {
    let named = |rules: &[&'static dyn Rule]| -> BTreeSet<String> {
        rules
            .iter()
            .flat_map(|r| r.meta().kinds.iter())
            .filter(|k| **k != "*")
            .map(|k| (*k).to_owned())
            .collect()
    };
    let mut kinds = named(engine.rules());
    if engine.rules().iter().any(|r| r.meta().kinds.contains(&"*")) {
        kinds.extend(named(palisade_rules::registry()));
    }
    kinds
}

/// Rules that do not run because Secrets are not read, and why.
#[derive(Debug, Default)]
pub struct NotRun {
    pub rules: Vec<&'static str>,
    pub reason: String,
}

impl NotRun {
    /// The line that says so, in the warnings.
    fn warning(&self) -> Option<String> {
        (!self.rules.is_empty())
            .then(|| format!("not run: {} ({})", self.rules.join(", "), self.reason))
    }
}

/// The kinds to list: those the rules read, without Secrets unless `secret_data`; and the
/// rules that then do not run (those that read only Secrets).
pub fn kinds_to_list(engine: &Engine, secret_data: bool) -> (BTreeSet<String>, NotRun) {
    let mut kinds = kinds_read(engine);
    if secret_data || !kinds.remove("Secret") {
        return (kinds, NotRun::default());
    }
    let rules = engine
        .rules()
        .iter()
        .map(|r| r.meta())
        .filter(|m| !m.kinds.is_empty() && m.kinds.iter().all(|k| *k == "Secret"))
        .map(|m| m.id)
        .collect();
    let reason = "Secrets are read only with --secret-data, which needs the role in \
deploy/scanner/secrets.yaml"
        .to_owned();
    (kinds, NotRun { rules, reason })
}

/// Warnings for the API groups discovery could not read: the kinds they serve are not checked.
fn unavailable_warnings(groups: &[String]) -> Vec<String> {
    groups
        .iter()
        .map(|group| {
            format!("the API group {group} is unavailable (its discovery document could not be read): the kinds it serves were not checked")
        })
        .collect()
}

/// What a cluster scan found.
pub struct ClusterOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub types: usize,
    pub objects: usize,
    pub credentials: Vec<String>,
    pub warnings: Vec<String>,
    pub not_run: NotRun,
}

/// Lists the kinds the rules read and checks each object as it arrives; the inventory rules
/// run at the end on the objects they need.
pub fn scan_cluster(engine: &Engine, args: &ClusterScanArgs) -> anyhow::Result<ClusterOutcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let connection = runtime.block_on(connect(&args.connect.options()))?;
    let (kinds, not_run) = kinds_to_list(engine, args.secret_data);
    let discovered = runtime.block_on(discover(&connection.once, &kinds))?;
    let types = discovered.types;
    let by_kind: HashMap<(String, String), ResourceType> = types
        .iter()
        .map(|t| ((t.api_version(), t.kind.clone()), t.clone()))
        .collect();
    let options = ListOptions {
        namespace: args.namespace.clone(),
        chunk_size: args.chunk_size,
        concurrency: args.concurrency,
        secret_data: args.secret_data,
    };
    let (sink, mut received) = mpsc::channel(1024);
    let lister = {
        let connection = connection.clone();
        let types = types.clone();
        runtime.spawn(async move { list(&connection, types, &options, sink).await })
    };
    let mut outcome = ClusterOutcome {
        findings: Vec::new(),
        errors: Vec::new(),
        types: types.len(),
        objects: 0,
        credentials: Vec::new(),
        warnings: unavailable_warnings(&discovered.unavailable),
        not_run,
    };
    let mut owners = Owners::default();
    let mut early = EarlyFold::new(engine);
    // What the inventory rules need of each object (objects with a pod spec reduced to the
    // fields they read), with its place in the inventory order.
    let mut keys = OrderKeys::default();
    let mut kept: Vec<(OrderKey, Kept)> = Vec::new();
    while let Some(listed) = received.blocking_recv() {
        match listed {
            Listed::Object(value) => {
                let key = (
                    value["apiVersion"].as_str().unwrap_or("").to_owned(),
                    value["kind"].as_str().unwrap_or("").to_owned(),
                );
                let url = match by_kind.get(&key) {
                    Some(resource) => object_url(&connection.server, resource, &value),
                    None => connection.server.clone(),
                };
                let object = Object::from_value(value, &url);
                outcome.objects += 1;
                if !args.no_owner_folding {
                    owners.add(&object.value);
                }
                outcome.warnings.extend(engine.ignore_warnings(&object));
                let found = engine.check_object(&object);
                if args.no_owner_folding {
                    outcome.findings.extend(found);
                } else {
                    let uid = object
                        .value
                        .pointer("/metadata/uid")
                        .and_then(|u| u.as_str());
                    early.arrived(&owners, found, uid);
                }
                outcome
                    .credentials
                    .extend(engine.unreported_credentials(&object));
                if engine.keep_for_inventory(&object) {
                    let key = keys.key(&object.value);
                    let mut one = Kept::default();
                    // One object: no room for more.
                    one.reserve(1);
                    engine.keep(object, &mut one);
                    kept.push((key, one));
                }
            }
            Listed::Error(error) => outcome.errors.push(LoadError {
                file: error.url.clone(),
                pos: Pos::default(),
                kind: LoadErrorKind::Io,
                message: error.to_string(),
            }),
        }
    }
    runtime.block_on(lister)?;
    let dropped = if args.no_owner_folding {
        Present::default()
    } else {
        let (findings, dropped) = early.finish();
        outcome.findings = findings;
        dropped
    };
    // Resource types arrive in any order: the inventory rules see them in a fixed one.
    keys.sort(&mut kept);
    drop(keys);
    let mut inventory = Kept::default();
    inventory.reserve(kept.len());
    for (_, mut one) in kept {
        inventory.append(&mut one);
    }
    if engine.has_inventory_rules() {
        outcome.findings.extend(engine.check_kept(&inventory));
    }
    drop(inventory);
    let mut findings = engine.merge_same_control(std::mem::take(&mut outcome.findings));
    if !args.no_owner_folding {
        // The findings folding left out early are gone: their places stand in for them.
        let mut present = Present::of(&findings);
        present.extend(&dropped);
        findings = fold_with(findings, &present, &owners);
    }
    in_namespace(&mut findings, args.namespace.as_deref());
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome.findings = findings;
    outcome
        .errors
        .sort_by(|a, b| (&a.file, &a.message).cmp(&(&b.file, &b.message)));
    outcome.warnings.sort();
    outcome.warnings.dedup();
    Ok(outcome)
}

/// The per-object findings of a run with owner folding, and what folding will do with them,
/// decided as soon as it is known (when the object's owner's findings have arrived, before
/// it or later): a finding that folding leaves out is dropped at once, or, when merging may
/// fold a Pod Security finding into it (see [`palisade_rules::rules::pss::same_control`]),
/// kept until then as a stand-in that holds only what merging and folding read (rule,
/// object, place). Pod Security findings are left whole.
struct EarlyFold {
    /// Where the per-object findings received so far are.
    present: Present,
    /// Where the findings dropped early were, for the folding at the end.
    dropped: Present,
    /// The findings of objects whose owner has not arrived, by owner uid, with their number
    /// in the order of arrival.
    waiting: HashMap<String, Vec<(usize, Finding)>>,
    /// The findings kept so far, with their number in the order of arrival.
    kept: Vec<(usize, Finding)>,
    /// The number of the next finding.
    next: usize,
    /// The rules whose findings merging may fold a Pod Security finding into.
    merge_targets: HashSet<&'static str>,
}

impl EarlyFold {
    fn new(engine: &Engine) -> EarlyFold {
        let selected: HashSet<&str> = engine.rules().iter().map(|r| r.meta().id).collect();
        let merge_targets = engine
            .rules()
            .iter()
            .map(|r| r.meta().id)
            .filter(|id| {
                palisade_rules::rules::pss::same_control(id)
                    .iter()
                    .any(|partner| selected.contains(partner))
            })
            .collect();
        EarlyFold {
            present: Present::default(),
            dropped: Present::default(),
            waiting: HashMap::new(),
            kept: Vec::new(),
            next: 0,
            merge_targets,
        }
    }

    /// The findings of an object (`uid`) have arrived.
    fn arrived(&mut self, owners: &Owners, findings: Vec<Finding>, uid: Option<&str>) {
        for finding in &findings {
            self.present.insert(finding);
        }
        for finding in findings {
            let number = self.next;
            self.next += 1;
            if finding.rule.category == "pss" {
                self.kept.push((number, finding));
                continue;
            }
            if owners.folds(&finding, &self.present) {
                self.folded(number, finding);
            } else if let Some(owner) = finding
                .object
                .uid
                .as_deref()
                .and_then(|u| owners.owner_of(u))
            {
                self.waiting
                    .entry(owner.to_owned())
                    .or_default()
                    .push((number, finding));
            } else {
                self.kept.push((number, finding));
            }
        }
        // Its owner's findings are all known now: those it has decide.
        if let Some(children) = uid.and_then(|uid| self.waiting.remove(uid)) {
            for (number, finding) in children {
                if owners.folds(&finding, &self.present) {
                    self.folded(number, finding);
                } else {
                    self.kept.push((number, finding));
                }
            }
        }
    }

    /// Folding will leave out `finding`.
    fn folded(&mut self, number: usize, mut finding: Finding) {
        if !self.merge_targets.contains(finding.rule.id) {
            self.dropped.insert(&finding);
        } else {
            compact(&mut finding);
            self.kept.push((number, finding));
        }
    }

    /// The findings kept, in the order they arrived, and where those dropped were.
    fn finish(self) -> (Vec<Finding>, Present) {
        let mut kept = self.kept;
        kept.extend(self.waiting.into_values().flatten());
        kept.sort_unstable_by_key(|(number, _)| *number);
        (kept.into_iter().map(|(_, f)| f).collect(), self.dropped)
    }
}

/// What a finding that folding leaves out needs until then: what merging reads (its rule,
/// file, document, item and pointer) and what folding reads (the uid of its object).
fn compact(finding: &mut Finding) {
    finding.message = String::new();
    finding.fix = None;
    finding.secrets = Vec::new();
    finding.policy = None;
    finding.object = Arc::new(ObjectRef {
        api_version: String::new(),
        kind: String::new(),
        namespace: None,
        name: String::new(),
        uid: finding.object.uid.clone(),
    });
}

/// The text report's summary counts resource types, not files: `from N files` becomes `from N
/// resource types`.
fn resource_types(mut text: String, types: usize) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let files = format!(" from {types} file{}", plural(types));
    let line_start = text.trim_end().rfind('\n').map_or(0, |i| i + 1);
    if let Some(at) = text[line_start..].rfind(&files) {
        let at = line_start + at;
        text.replace_range(
            at..at + files.len(),
            &format!(" from {types} resource type{}", plural(types)),
        );
    }
    text
}

/// Only the findings about objects in `namespace` (and the Namespace itself).
fn in_namespace(findings: &mut Vec<Finding>, namespace: Option<&str>) {
    if let Some(ns) = namespace {
        findings.retain(|f| match &f.object.namespace {
            Some(object_ns) => object_ns == ns,
            None => f.object.kind == "Namespace" && f.object.name == ns,
        });
    }
}

fn scan(args: ClusterScanArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load(None)?.rules;
    let engine = Engine::new(&config, &args.select, &args.ignore)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    let outcome = scan_cluster(&engine, &args)?;
    let rules: Vec<_> = engine.rules().iter().map(|r| r.meta()).collect();
    let redactor = if args.show_secrets {
        Redactor::default()
    } else {
        let carried = outcome.findings.iter().flat_map(|f| &f.secrets);
        Redactor::new(carried.chain(&outcome.credentials))
            .map_err(|err| anyhow::anyhow!("cannot prepare the masking of credentials: {err}"))?
    };
    // `palisade fix` changes files, not a cluster: the text report names no fix.
    let mut outcome = outcome;
    if args.format == Format::Text {
        for finding in &mut outcome.findings {
            finding.fix = None;
        }
    }
    let summary = Report::summarize(
        &outcome.findings,
        &outcome.errors,
        outcome.types,
        outcome.objects,
        0,
    );
    let mut warnings: Vec<String> = engine
        .warnings
        .iter()
        .chain(&outcome.warnings)
        .cloned()
        .collect();
    // JSON has a field of its own for the rules not run; the other formats, a warning.
    if args.format != Format::Json {
        warnings.extend(outcome.not_run.warning());
    }
    let report = Report {
        findings: &outcome.findings,
        errors: &outcome.errors,
        warnings: &warnings,
        rules: &rules,
        summary,
        redactor: &redactor,
    };
    // No code frames: cluster objects have no source lines.
    let options = TextOptions { sources: None };
    match (args.format, args.output.as_deref()) {
        (Format::Text, output) => {
            let text = render(&report, Format::Text, &options);
            crate::cmd::scan::write_output(&resource_types(text, outcome.types), output)?
        }
        (Format::Json, output) => {
            let mut text = Vec::new();
            write(&report, Format::Json, &options, &mut text)?;
            let mut document: serde_json::Value = serde_json::from_slice(&text)?;
            let not_run: Vec<serde_json::Value> = outcome
                .not_run
                .rules
                .iter()
                .map(|rule| serde_json::json!({"rule": rule, "reason": outcome.not_run.reason}))
                .collect();
            document["not_run"] = serde_json::Value::Array(not_run);
            let mut text = serde_json::to_string_pretty(&document)?;
            text.push('\n');
            crate::cmd::scan::write_output(&text, output)?;
        }
        (format, Some(path)) => {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            write(&report, format, &options, &mut file)?;
            file.flush()?;
        }
        (format, None) => {
            let mut out = std::io::BufWriter::new(anstream::stdout().lock());
            let written = write(&report, format, &options, &mut out).and_then(|()| out.flush());
            if let Err(err) = written {
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(err.into());
                }
            }
        }
    }
    Ok(if !outcome.errors.is_empty() {
        ExitCode::from(2)
    } else if outcome.findings.iter().any(|f| f.severity >= fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
