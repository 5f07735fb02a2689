//! `palisade node`: the CIS Kubernetes Benchmark checks of a node's files (the node it runs on,
//! or a copy of a node's files under `--root`), reported like every other finding, plus the
//! per-object rules on the configuration files the API server names (its
//! `EncryptionConfiguration` and its audit `Policy`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use palisade_core::rule::{Finding, Severity};
use palisade_core::Redactor;
use palisade_node::{audit, NodeAudit, Options, Section};
use palisade_report::{render, write, Format, Report, SourceLines, TextOptions};
use palisade_rules::Engine;
use serde_json::{json, Value};

use crate::cmd::scan::{format_parser, severity_parser, write_output};
use crate::config::ConfigArgs;

#[derive(Debug, Args)]
pub struct NodeArgs {
    /// The node's root folder: `/` on the node itself, or a copy of a node's files (the host
    /// mounted in a pod, a captured disk).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Do not read the running processes' command lines from `<root>/proc` (read by default when
    /// the root is `/` or has a live `proc`).
    #[arg(long)]
    pub no_processes: bool,
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
    /// Print the credentials findings are about (encryption keys) in full. For a local run
    /// only.
    #[arg(long)]
    pub show_secrets: bool,
}

/// Source lines for code frames, read from the node's files. Line 0 (a file as a whole: a
/// key's mode, its owner) has no frame, so no key file is ever quoted.
#[derive(Default)]
struct NodeLines {
    files: RefCell<HashMap<String, Option<Vec<String>>>>,
}

/// Files larger than this get no code frame.
const MAX_FRAME_FILE: u64 = 1 << 20;

impl SourceLines for NodeLines {
    fn line(&self, file: &str, line: u32) -> Option<String> {
        let index = line.checked_sub(1)? as usize;
        let mut files = self.files.borrow_mut();
        let lines = files.entry(file.to_owned()).or_insert_with(|| {
            let small = std::fs::metadata(file).is_ok_and(|m| m.len() <= MAX_FRAME_FILE);
            small
                .then(|| std::fs::read_to_string(file).ok())
                .flatten()
                .map(|t| t.lines().map(str::to_owned).collect())
        });
        lines.as_ref()?.get(index).cloned()
    }
}

pub fn run(args: NodeArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load(None)?.rules;
    let engine = Engine::new(&config, &args.select, &args.ignore)?;
    let fail_on = args.fail_on.or(config.fail_on).unwrap_or(Severity::Low);
    if !args.root.is_dir() {
        anyhow::bail!("--root {}: not a folder", args.root.display());
    }
    let mut options = Options::new(&args.root);
    if args.no_processes {
        options.processes = false;
    }
    let node = audit(&options);
    let mut findings = engine.check_node(&node);
    let mut credentials = Vec::new();
    for object in &node.objects {
        findings.extend(engine.check_object(object));
        credentials.extend(engine.unreported_credentials(object));
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let redactor = if args.show_secrets {
        Redactor::default()
    } else {
        Redactor::new(findings.iter().flat_map(|f| &f.secrets).chain(&credentials))
            .map_err(|err| anyhow::anyhow!("cannot prepare the masking of credentials: {err}"))?
    };
    let rules: Vec<_> = engine.rules().iter().map(|r| r.meta()).collect();
    let files = node.sources.len() + node.objects.len();
    let summary = Report::summarize(&findings, &node.errors, files, node.objects.len(), 0);
    let report = Report {
        findings: &findings,
        errors: &node.errors,
        warnings: &engine.warnings,
        rules: &rules,
        summary,
        redactor: &redactor,
    };
    let lines = NodeLines::default();
    let options = TextOptions {
        sources: Some(&lines),
    };
    match args.format {
        Format::Text => {
            let mut text = render(&report, Format::Text, &options);
            text.push_str(&section_table(&node));
            write_output(&text, args.output.as_deref())?;
        }
        Format::Json => {
            let mut out = Vec::new();
            write(&report, Format::Json, &options, &mut out)?;
            let mut document: Value = serde_json::from_slice(&out)?;
            if let Value::Object(map) = &mut document {
                map.insert("cis".to_owned(), cis_json(&node, &redactor));
            }
            let mut text = serde_json::to_string_pretty(&document)?;
            text.push('\n');
            emit(&text, args.output.as_deref())?;
        }
        format => emit(&render(&report, format, &options), args.output.as_deref())?,
    }
    Ok(exit_code(&findings, &node, fail_on))
}

/// Writes a report to a file or to standard output (a closed pipe ends quietly).
fn emit(text: &str, output: Option<&str>) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text)?,
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(err) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    return Err(err.into());
                }
            }
        }
    }
    Ok(())
}

/// kube-bench's totals per section, after the text report.
fn section_table(node: &NodeAudit) -> String {
    let mut out = String::from("\nCIS Kubernetes Benchmark 1.12\n");
    for section in Section::ALL {
        let c = node.counts(section);
        out.push_str(&format!(
            "  {:<12} {:>3} PASS {:>3} FAIL {:>3} WARN {:>3} INFO  ({})\n",
            section.name(),
            c.pass,
            c.fail,
            c.warn,
            c.info,
            section.title()
        ));
    }
    out
}

/// The `cis` member of the JSON report: totals per section like kube-bench's, and every
/// check's outcome with the values it read (messages masked like the findings').
fn cis_json(node: &NodeAudit, redactor: &Redactor) -> Value {
    let mut sections = serde_json::Map::new();
    let mut total = palisade_node::Counts::default();
    for section in Section::ALL {
        let c = node.counts(section);
        total.pass += c.pass;
        total.fail += c.fail;
        total.warn += c.warn;
        total.info += c.info;
        sections.insert(
            section.name().to_owned(),
            json!({"title": section.title(), "pass": c.pass, "fail": c.fail, "warn": c.warn, "info": c.info}),
        );
    }
    let checks: Vec<Value> = node
        .results
        .iter()
        .map(|r| {
            let check = r.check();
            let mut value = json!({
                "id": r.id,
                "section": r.section.name(),
                "text": check.text,
                "scored": check.scored,
                "outcome": r.outcome.as_str(),
            });
            let observations: Vec<Value> = r
                .observations
                .iter()
                .map(|o| {
                    json!({
                        "file": o.location.file,
                        "line": o.location.pos.line,
                        "column": o.location.pos.col,
                        "message": redactor.redact(&o.message),
                        "ok": o.ok,
                    })
                })
                .collect();
            if !observations.is_empty() {
                value["observations"] = Value::Array(observations);
            }
            if let Some(u) = &r.unchecked {
                value["reason"] = json!(redactor.redact(&u.reason));
                value["file"] = json!(u.location.file);
            }
            value
        })
        .collect();
    json!({
        "benchmark": "cis-1.12",
        "totals": {"pass": total.pass, "fail": total.fail, "warn": total.warn, "info": total.info},
        "sections": sections,
        "checks": checks,
    })
}

fn exit_code(findings: &[Finding], node: &NodeAudit, fail_on: Severity) -> ExitCode {
    if !node.errors.is_empty() {
        ExitCode::from(2)
    } else if findings.iter().any(|f| f.severity >= fail_on) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
