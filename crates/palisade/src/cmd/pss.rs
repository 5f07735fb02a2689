//! `palisade pss`: Pod Security Admission's verdict on every pod and workload of the input, and
//! `palisade pss suggest`: the strictest level each namespace's workloads already meet.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use palisade_core::patch::{set_ops, PatchOp};
use palisade_core::views::pod_spec_location;
use palisade_core::{load_path, pointer, Limits, Object};
use palisade_pss::{
    evaluate, forbidden_message, parse_config, suggest, warning_message, ConfigError, Evaluation,
    Exemption, Level, LevelVersion, Mode, NamespacePolicy, PodSecurityConfig, Policy, Version,
    NEWEST_POLICY_MINOR,
};
use serde_json::{json, Value};

use crate::input::{load_all, InputArgs};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PssArgs {
    #[command(subcommand)]
    pub command: Option<PssCommand>,
    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum PssCommand {
    /// For each namespace, the strictest level all its workloads pass, the workloads that block
    /// the next level, and the `kubectl label` command that enforces the level.
    Suggest(SuggestArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

fn parse_level(text: &str) -> Result<Level, String> {
    text.parse()
        .map_err(|_| format!("expected privileged, baseline or restricted, got {text:?}"))
}

fn parse_version(text: &str) -> Result<Version, String> {
    text.parse()
        .map_err(|_| format!("expected latest or v1.N, got {text:?}"))
}

/// Judge every pod and workload as Pod Security Admission would (exit 0 when all are allowed,
/// 1 when any is denied, 2 on input errors).
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Judge everything at this level instead of by namespace labels.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    /// Judge everything at this policy version (`latest` or `v1.N`) instead of by namespace
    /// labels: at --level, or at the default level without it. Default with --level: latest.
    #[arg(long, value_parser = parse_version)]
    pub version: Option<Version>,
    /// An AdmissionConfiguration (or PodSecurityConfiguration) file: its defaults and its
    /// exempt namespaces and runtime classes apply.
    #[arg(long, value_name = "ADMISSION_CONFIG_FILE")]
    pub config: Option<PathBuf>,
    /// Enforce level for namespaces without labels (default: restricted, or the --config
    /// defaults).
    #[arg(long, value_parser = parse_level)]
    pub default_level: Option<Level>,
    /// Enforce version for namespaces without labels (default: latest, or the --config
    /// defaults).
    #[arg(long, value_parser = parse_version)]
    pub default_version: Option<Version>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Policy version to evaluate and pin (`latest` pins the newest policy version).
    #[arg(long, value_parser = parse_version, default_value = "latest")]
    pub version: Version,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "text")]
    pub format: OutputFormat,
}

pub fn run(args: PssArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(PssCommand::Suggest(args)) => suggest_cmd(args),
        None => check(args.check),
    }
}

/// Loads the inputs, printing load errors on standard error. True when there were errors.
fn load(input: &InputArgs) -> (Vec<Object>, bool) {
    let loaded = load_all(input);
    for e in &loaded.errors {
        eprintln!(
            "error: {}:{}:{}: {}",
            e.file, e.pos.line, e.pos.col, e.message
        );
    }
    (loaded.objects, !loaded.errors.is_empty())
}

/// Reads the admission configuration, following a PodSecurity plugin entry that points to
/// another file (relative to the configuration file).
fn load_config(path: &Path, limits: &Limits) -> anyhow::Result<PodSecurityConfig> {
    let mut path = path.to_path_buf();
    for _ in 0..2 {
        let display = path.display().to_string();
        let loaded = load_path(&path, &display, limits);
        if let Some(e) = loaded.errors.first() {
            bail!("{}:{}:{}: {}", e.file, e.pos.line, e.pos.col, e.message);
        }
        let object = loaded
            .objects
            .first()
            .ok_or_else(|| anyhow!("{display}: no configuration object"))?;
        match parse_config(&object.value) {
            Ok(config) => return Ok(config),
            Err(ConfigError::ExternalPath(next)) => {
                let base = path.parent().unwrap_or(Path::new(""));
                path = base.join(next);
            }
            Err(err) => bail!("{display}: {err}"),
        }
    }
    bail!(
        "{}: the PodSecurity configuration file points to yet another file",
        path.display()
    )
}

/// The namespace an object is created in (`default` when it names none).
fn namespace_of(object: &Object) -> &str {
    object
        .namespace()
        .filter(|ns| !ns.is_empty())
        .unwrap_or("default")
}

fn is_workload(object: &Object) -> bool {
    pod_spec_location(object.kind()).is_some()
}

/// The policy of each namespace the input defines ([`palisade_pss::namespace_policies`]),
/// warning when a namespace is defined more than once with different Pod Security labels.
fn namespaces<'a>(
    objects: &'a [Object],
    defaults: &Policy,
) -> BTreeMap<&'a str, NamespacePolicy<'a>> {
    let namespaces = palisade_pss::namespace_policies(objects, defaults);
    for (name, ns) in &namespaces {
        if ns.conflicting {
            let pos = ns.namespace.locate("");
            eprintln!(
                "warning: namespace {name} is defined {} times with different Pod Security \
                 labels; judging by the least strict, {}:{}",
                ns.labelled_definitions, ns.namespace.source.path, pos.line
            );
        }
    }
    namespaces
}

/// Where the policy an object was judged by came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PolicySource {
    Flag,
    Namespace,
    Default,
}

impl PolicySource {
    fn as_str(self) -> &'static str {
        match self {
            PolicySource::Flag => "flag",
            PolicySource::Namespace => "namespace",
            PolicySource::Default => "default",
        }
    }
}

/// The verdict on one pod or workload.
struct Verdict<'a> {
    object: &'a Object,
    namespace: &'a str,
    source: PolicySource,
    enforce: LevelVersion,
    /// `None` when exempt.
    evaluation: Option<Evaluation>,
    exemption: Option<Exemption>,
    /// What the warn and audit modes would say, when they object.
    warn: Option<String>,
    audit: Option<String>,
}

impl Verdict<'_> {
    fn allowed(&self) -> bool {
        self.evaluation.as_ref().is_none_or(|e| e.allowed)
    }

    fn message(&self) -> Option<String> {
        let evaluation = self.evaluation.as_ref().filter(|e| !e.allowed)?;
        Some(forbidden_message(
            self.enforce.level,
            self.enforce.version,
            evaluation,
        ))
    }

    fn reasons(&self) -> Vec<String> {
        self.evaluation
            .iter()
            .flat_map(|e| &e.violations)
            .map(|v| {
                if v.detail.is_empty() {
                    v.reason.clone()
                } else {
                    format!("{} ({})", v.reason, v.detail)
                }
            })
            .collect()
    }
}

fn exemption_text(exemption: &Exemption) -> String {
    match exemption {
        Exemption::Namespace(ns) => format!("namespace {ns}"),
        Exemption::RuntimeClass(rc) => format!("runtime class {rc}"),
    }
}

/// What a warn or audit mode at `lv` would say about the object, if anything.
fn mode_message(object: &Object, lv: LevelVersion) -> Option<String> {
    if lv.level == Level::Privileged {
        return None;
    }
    let evaluation = evaluate(&object.value, lv.level, lv.version)?;
    (!evaluation.allowed).then(|| warning_message(lv.level, lv.version, &evaluation))
}

fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => load_config(path, &args.input.limits())?,
        None => PodSecurityConfig {
            defaults: Policy {
                enforce: LevelVersion::new(Level::Restricted, Version::Latest),
                ..Policy::default()
            },
            ..PodSecurityConfig::default()
        },
    };
    let mut defaults = config.defaults;
    if let Some(level) = args.default_level {
        defaults.enforce.level = level;
    }
    if let Some(version) = args.default_version {
        defaults.enforce.version = version;
    }
    let (objects, input_errors) = load(&args.input);
    let namespaces = namespaces(&objects, &defaults);
    let mut policies: BTreeMap<&str, (Policy, PolicySource)> = BTreeMap::new();
    for (name, ns) in &namespaces {
        for error in &ns.errors {
            let pos = ns.namespace.locate(&label_pointer(&error.field));
            eprintln!(
                "warning: {}:{}:{}: Namespace {name}: {error}",
                ns.namespace.source.path, pos.line, pos.col
            );
        }
        let source = if ns.labelled {
            PolicySource::Namespace
        } else {
            PolicySource::Default
        };
        policies.insert(name, (ns.policy, source));
    }
    let verdicts: Vec<Verdict> = objects
        .iter()
        .filter(|o| is_workload(o))
        .map(|object| {
            let namespace = namespace_of(object);
            // `--version` alone judges at the default level.
            let flagged = match (args.level, args.version) {
                (None, None) => None,
                (level, version) => Some(LevelVersion::new(
                    level.unwrap_or(defaults.enforce.level),
                    version.unwrap_or(Version::Latest),
                )),
            };
            let (policy, source) = match flagged {
                Some(enforce) => (
                    Policy {
                        enforce,
                        ..Policy::default()
                    },
                    PolicySource::Flag,
                ),
                None => policies
                    .get(namespace)
                    .copied()
                    .unwrap_or((defaults, PolicySource::Default)),
            };
            let exemption = args.config.as_ref().and_then(|_| {
                let mut value = object.value.clone();
                if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert("namespace".to_owned(), namespace.into());
                }
                config.exemption(&value)
            });
            let judged = exemption.is_none();
            let evaluation = judged
                .then(|| evaluate(&object.value, policy.enforce.level, policy.enforce.version))
                .flatten();
            let judged_by_labels = judged && source != PolicySource::Flag;
            Verdict {
                object,
                namespace,
                source,
                enforce: policy.enforce,
                evaluation,
                exemption,
                warn: judged_by_labels
                    .then(|| mode_message(object, policy.get(Mode::Warn)))
                    .flatten(),
                audit: judged_by_labels
                    .then(|| mode_message(object, policy.get(Mode::Audit)))
                    .flatten(),
            }
        })
        .collect();
    let text = match args.format {
        OutputFormat::Json => {
            let list: Vec<Value> = verdicts.iter().map(verdict_json).collect();
            let mut text = serde_json::to_string_pretty(&list)?;
            text.push('\n');
            text
        }
        OutputFormat::Text => verdicts_text(&verdicts),
    };
    print!("{text}");
    Ok(if input_errors {
        ExitCode::from(2)
    } else if verdicts.iter().all(Verdict::allowed) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The pointer of a `metadata.labels[KEY]` field path.
fn label_pointer(field: &str) -> String {
    match field
        .strip_prefix("metadata.labels[")
        .and_then(|rest| rest.strip_suffix(']'))
    {
        Some(key) => pointer::push("/metadata/labels", key),
        None => "/metadata/labels".to_owned(),
    }
}

fn verdict_json(verdict: &Verdict) -> Value {
    let object = verdict.object;
    json!({
        "file": object.source.path,
        "line": object.locate("").line,
        "kind": object.kind(),
        "namespace": verdict.namespace,
        "name": object.name(),
        "allowed": verdict.allowed(),
        "reasons": verdict.reasons(),
        "checks": verdict.evaluation.iter().flat_map(|e| &e.violations).map(|v| v.check).collect::<Vec<_>>(),
        "message": verdict.message(),
        "policy": verdict.enforce.to_string(),
        "policySource": verdict.source.as_str(),
        "exempt": verdict.exemption.as_ref().map(exemption_text),
        "warn": verdict.warn,
        "audit": verdict.audit,
    })
}

fn verdicts_text(verdicts: &[Verdict]) -> String {
    let mut out = String::new();
    let (mut allowed, mut denied, mut exempt) = (0, 0, 0);
    for verdict in verdicts {
        let object = verdict.object;
        let _ = write!(
            out,
            "{}:{}: {} {}/{}: ",
            object.source.path,
            object.locate("").line,
            object.kind(),
            verdict.namespace,
            object.name()
        );
        if let Some(exemption) = &verdict.exemption {
            exempt += 1;
            let _ = writeln!(out, "exempt ({})", exemption_text(exemption));
            continue;
        }
        match verdict.message() {
            Some(message) => {
                denied += 1;
                let _ = writeln!(out, "denied: {message}");
            }
            None => {
                allowed += 1;
                let how = match verdict.source {
                    PolicySource::Flag => String::new(),
                    PolicySource::Namespace => ", namespace labels".to_owned(),
                    PolicySource::Default => ", default".to_owned(),
                };
                let _ = writeln!(out, "allowed ({}{how})", verdict.enforce);
            }
        }
        if let Some(warn) = &verdict.warn {
            let _ = writeln!(out, "  warn: {warn}");
        }
        if let Some(audit) = &verdict.audit {
            let _ = writeln!(out, "  audit: {audit}");
        }
    }
    let _ = writeln!(
        out,
        "{} checked: {allowed} allowed, {denied} denied, {exempt} exempt",
        plural(verdicts.len(), "pod or workload", "pods and workloads")
    );
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The version a suggestion pins: the evaluated one, `latest` as the newest policy version.
fn pinned(version: Version) -> Version {
    match version {
        Version::Latest => Version::Minor(NEWEST_POLICY_MINOR),
        minor => minor,
    }
}

fn suggest_cmd(args: SuggestArgs) -> anyhow::Result<ExitCode> {
    let (objects, input_errors) = load(&args.input);
    let namespace_objects = namespaces(&objects, &Policy::default());
    let mut groups: BTreeMap<&str, Vec<&Object>> = namespace_objects
        .keys()
        .map(|name| (*name, Vec::new()))
        .collect();
    for object in objects.iter().filter(|o| is_workload(o)) {
        groups.entry(namespace_of(object)).or_default().push(object);
    }
    let version = pinned(args.version);
    let mut text = String::new();
    let mut list = Vec::new();
    for (name, workloads) in &groups {
        let suggestion = suggest(workloads.iter().map(|o| &o.value), version);
        let lv = LevelVersion::new(suggestion.level, version);
        let labels = [
            (Mode::Enforce.level_label(), suggestion.level.to_string()),
            (Mode::Enforce.version_label(), version.to_string()),
        ];
        let command = format!(
            "kubectl label --overwrite ns {name} {}",
            labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let namespace = namespace_objects.get(name);
        let current = namespace.and_then(|ns| {
            let labels = ns.namespace.labels()?;
            labels
                .contains_key(&Mode::Enforce.level_label())
                .then_some(ns.policy.enforce)
        });
        let patch = label_patch(namespace.map(|ns| ns.namespace), &labels);
        let blockers: Vec<(&Object, &Evaluation)> = suggestion
            .blockers
            .iter()
            .map(|b| (workloads[b.index], &b.evaluation))
            .collect();
        let _ = write!(
            text,
            "namespace {name}: {lv} ({})",
            plural(suggestion.evaluated, "workload", "workloads")
        );
        if let Some(current) = current {
            let _ = write!(text, ", enforces {current} now");
        }
        text.push('\n');
        let weaker = current.is_some_and(|current| weaker_than(lv, current));
        if let Some(current) = current.filter(|_| weaker) {
            let at = namespace.map_or_else(String::new, |ns| {
                let pos = ns.namespace.locate(&pointer::push(
                    "/metadata/labels",
                    &Mode::Enforce.level_label(),
                ));
                format!("{}:{}:{}: ", ns.namespace.source.path, pos.line, pos.col)
            });
            eprintln!(
                "warning: {at}namespace {name}: the suggestion {lv} is weaker than {current}, \
                 which its labels enforce now: applying it would loosen the namespace; fix the \
                 workloads that {current} denies instead"
            );
        }
        if let Some(next) = suggestion.next.filter(|_| !blockers.is_empty()) {
            let _ = writeln!(text, "  blocking {}:", LevelVersion::new(next, version));
            for (object, evaluation) in &blockers {
                let _ = writeln!(
                    text,
                    "    {}:{}: {} {}: {}",
                    object.source.path,
                    object.locate("").line,
                    object.kind(),
                    object.name(),
                    palisade_pss::forbidden_detail(evaluation)
                );
            }
        }
        let _ = writeln!(text, "  {command}");
        list.push(json!({
            "namespace": name,
            "level": suggestion.level,
            "version": version,
            "current": current.map(|c| c.to_string()),
            "weakerThanCurrent": weaker,
            "workloads": suggestion.evaluated,
            "next": suggestion.next,
            "blockers": blockers.iter().map(|(object, evaluation)| {
                let next = suggestion.next.unwrap_or(Level::Restricted);
                json!({
                    "file": object.source.path,
                    "line": object.locate("").line,
                    "kind": object.kind(),
                    "name": object.name(),
                    "checks": evaluation.violations.iter().map(|v| v.check).collect::<Vec<_>>(),
                    "message": forbidden_message(next, version, evaluation),
                })
            }).collect::<Vec<_>>(),
            "command": command,
            "patch": patch,
        }));
    }
    let out = match args.format {
        OutputFormat::Text => text,
        OutputFormat::Json => {
            let mut out = serde_json::to_string_pretty(&list)?;
            out.push('\n');
            out
        }
    };
    print!("{out}");
    Ok(if input_errors {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Whether `suggested` is a weaker policy than `current`: a less strict level, or the same
/// level at an older policy version.
fn weaker_than(suggested: LevelVersion, current: LevelVersion) -> bool {
    suggested.level < current.level
        || (suggested.level == current.level
            && suggested.level != Level::Privileged
            && suggested.version.policy_minor() < current.version.policy_minor())
}

/// A JSON patch setting the labels on the Namespace: against the object when the input holds
/// it, else against a namespace whose labels exist (the API server always sets
/// `kubernetes.io/metadata.name`).
fn label_patch(namespace: Option<&Object>, labels: &[(String, String)]) -> Vec<PatchOp> {
    let mut document = namespace
        .map(|ns| ns.value.clone())
        .unwrap_or_else(|| json!({"metadata": {"labels": {}}}));
    let mut ops = Vec::new();
    for (key, value) in labels {
        let path = pointer::push("/metadata/labels", key);
        let step = set_ops(&document, &path, Value::String(value.clone()));
        if palisade_core::patch::apply(&mut document, &step).is_ok() {
            ops.extend(step);
        }
    }
    ops
}
