//! `palisade cluster scan`: every rule over the objects of a live cluster.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, Subcommand};
use palisade_cluster::{
    connect, discover, fold, list, object_url, ConnectOptions, ListOptions, Listed, Owners,
    ResourceType,
};
use palisade_core::rule::{Finding, Severity};
use palisade_core::{LoadError, LoadErrorKind, Object, Pos, Redactor};
use palisade_report::{render, write, Format, Report, TextOptions};
use palisade_rules::{Engine, Rule};
use tokio::sync::mpsc;

use crate::config::ConfigArgs;

#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// Check the objects of the cluster against every rule, as `scan` checks manifests.
    Scan(ClusterScanArgs),
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
    fn options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            timeout: Some(Duration::from_secs(self.request_timeout.max(1))),
        }
    }
}

fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    clap::builder::PossibleValuesParser::new(Format::NAMES)
        .try_map(|name: String| Format::parse(&name).ok_or_else(invalid_value))
}

fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    clap::builder::PossibleValuesParser::new(Severity::ALL.map(Severity::as_str))
        .try_map(|name: String| Severity::parse(&name).ok_or_else(invalid_value))
}

/// Never returned: the possible values were checked first.
fn invalid_value() -> clap::Error {
    clap::Error::new(clap::error::ErrorKind::InvalidValue)
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
    /// Read the data of Secrets (by default only their metadata, which the documented RBAC
    /// allows without granting access to secret values).
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

/// What a cluster scan found.
pub struct ClusterOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<LoadError>,
    pub types: usize,
    pub objects: usize,
    pub credentials: Vec<String>,
    pub warnings: Vec<String>,
}

/// Lists the kinds the rules read and checks each object as it arrives; the inventory rules
/// run at the end on the objects they need.
pub fn scan_cluster(engine: &Engine, args: &ClusterScanArgs) -> anyhow::Result<ClusterOutcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let connection = runtime.block_on(connect(&args.connect.options()))?;
    let types = runtime.block_on(discover(&connection.client, &kinds_read(engine)))?;
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
        warnings: Vec::new(),
    };
    let mut owners = Owners::default();
    let mut kept = Vec::new();
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
                outcome.findings.extend(engine.check_object(&object));
                outcome
                    .credentials
                    .extend(engine.unreported_credentials(&object));
                if engine.keep_for_inventory(&object) {
                    kept.push(object);
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
    // Resource types arrive in any order. Inventory findings about a group of objects (a
    // namespace without a default-deny policy) are placed at its first object: a fixed order,
    // owners before what they own, makes that the same on every run and an owner when possible.
    kept.sort_by_cached_key(|o| {
        (
            o.value.pointer("/metadata/ownerReferences").is_some(),
            o.api_version().to_owned(),
            o.kind().to_owned(),
            o.namespace().map(str::to_owned),
            o.name().to_owned(),
        )
    });
    if engine.has_inventory_rules() {
        outcome.findings.extend(engine.check_inventory(&kept));
    }
    drop(kept);
    let mut findings = engine.merge_same_control(std::mem::take(&mut outcome.findings));
    if !args.no_owner_folding {
        findings = fold(findings, &owners);
    }
    if let Some(ns) = &args.namespace {
        findings.retain(|f| match &f.object.namespace {
            Some(object_ns) => object_ns == ns,
            None => f.object.kind == "Namespace" && f.object.name == *ns,
        });
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome.findings = findings;
    outcome
        .errors
        .sort_by(|a, b| (&a.file, &a.message).cmp(&(&b.file, &b.message)));
    outcome.warnings.sort();
    outcome.warnings.dedup();
    Ok(outcome)
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
    let summary = Report::summarize(
        &outcome.findings,
        &outcome.errors,
        outcome.types,
        outcome.objects,
        0,
    );
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
    // No code frames: cluster objects have no source lines.
    let options = TextOptions { sources: None };
    match (args.format, args.output.as_deref()) {
        (Format::Text, output) => {
            crate::cmd::scan::write_output(&render(&report, Format::Text, &options), output)?
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
