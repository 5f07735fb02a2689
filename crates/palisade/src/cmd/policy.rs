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
use palisade_core::rule::{Finding, Severity};
use palisade_core::{load_path, load_str, Object};
use palisade_policy::suite::{run_suite, Status};
use palisade_policy::{is_policy, Inventory, PolicySet, Review};
use palisade_rules::rules::policy::policy_violation::{broken_policy_message, severity_of};
use palisade_rules::{Config, Engine};
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

/// Marks of a policy in a manifest's text: files without any are not decoded twice.
const MARKS: &[&str] = &["gatekeeper.sh/", "ValidatingAdmissionPolicy"];

/// Computes a finding's baseline fingerprint from the value at its pointer.
pub type Fingerprint<'f> = &'f dyn Fn(&Finding, Option<&serde_json::Value>) -> u64;

/// Adds the POL001 findings of `scan`: every object of the input reviewed against the policies
/// of `--policy` and of the input, and the constraints that cannot be used. Nothing is decoded
/// again unless POL001 is selected and there are policies.
pub fn add_scan_findings(
    args: &PolicyArgs,
    input: &InputArgs,
    engine: &Engine,
    config: &Config,
    outcome: &mut ScanOutcome,
    fingerprint: Option<Fingerprint<'_>>,
) -> anyhow::Result<()> {
    let Some(rule) = engine.rules().iter().find(|r| r.meta().id == "POL001") else {
        return Ok(());
    };
    let meta = rule.meta();
    let limits = input.limits();
    let mut extra = Vec::new();
    for dir in &args.dirs {
        let mut files = Vec::new();
        yaml_files(dir, &mut files)?;
        for file in files {
            let loaded = load_path(&file, &file.display().to_string(), &limits);
            outcome.errors.extend(loaded.errors);
            extra.extend(loaded.objects);
        }
    }
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
    let texts: Vec<(String, String)> = inputs
        .iter()
        .filter_map(|i| Some((i.display().to_owned(), text_of(i)?)))
        .collect();
    let has_marks = texts
        .iter()
        .any(|(_, t)| MARKS.iter().any(|m| t.contains(m)));
    if extra.is_empty() && !has_marks {
        return Ok(());
    }
    let objects: Vec<Object> = texts
        .iter()
        .flat_map(|(name, text)| load_str(text, name, &limits).objects)
        .collect();
    let (mut set, load_errors) = PolicySet::load(extra.iter().chain(&objects));
    if set.is_empty() && load_errors.is_empty() {
        return Ok(());
    }
    let mut inventory = Inventory::new();
    for o in objects
        .iter()
        .chain(&extra)
        .filter(|o| !is_policy(&o.value))
    {
        inventory.add(&o.value);
    }
    set.set_inventory(inventory);
    let severity = config
        .severity
        .get(meta.id)
        .or_else(|| config.severity.get(meta.slug))
        .copied();
    let mut found: Vec<(Finding, u64)> = Vec::new();
    // Suppressions (the ignore annotation, the configuration's) apply as to every rule.
    let suppressed = |object: &Object| engine.suppressed(meta.id, object);
    let mut push = |object: &Object, pointer: &str, message: String, sev: Severity, policy| {
        if suppressed(object) {
            return;
        }
        let finding = Finding {
            rule: meta,
            severity: severity.unwrap_or(sev),
            message,
            file: object.source.path.clone(),
            pos: object.locate(pointer),
            pointer: pointer.to_owned(),
            object: object.reference(),
            document: object.document,
            item: object.item,
            fix: None,
            related: Vec::new(),
            secrets: Vec::new(),
            policy: Some(policy),
        };
        let print = fingerprint.map_or(0, |f| f(&finding, object.value.pointer(pointer)));
        found.push((finding, print));
    };
    // Policies that cannot be used: those of --policy, and the constraints of the input (the
    // rule's own check reports the input's templates, policies and bindings).
    let from_input = |file: &str| texts.iter().any(|(name, _)| name == file);
    for e in &load_errors {
        let constraint =
            e.policy.contains('/') && !e.policy.starts_with("ValidatingAdmissionPolicyBinding/");
        if from_input(&e.file) && !constraint {
            continue;
        }
        let object = extra
            .iter()
            .chain(&objects)
            .find(|o| o.source.path == e.file && o.locate(&e.pointer) == e.pos);
        if let Some(object) = object {
            let message = broken_policy_message(object.kind(), e);
            push(object, &e.pointer, message, meta.severity, e.policy.clone());
        }
    }
    for object in objects
        .iter()
        .filter(|o| !is_policy(&o.value) && !suppressed(o))
    {
        let review = Review::from_object(&admitted(&object.value));
        let result = set.review(&review);
        let pointer = if object.value.pointer("/metadata/name").is_some() {
            "/metadata/name"
        } else {
            ""
        };
        for v in result.violations {
            let policy = v.constraint();
            push(object, pointer, v.message, severity_of(&v.action), policy);
        }
        for e in result.errors {
            let message = format!("{}: {}: {}", e.policy, e.kind.as_str(), e.message);
            push(object, pointer, message, Severity::Low, e.policy.clone());
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let prints = std::mem::take(&mut outcome.fingerprints);
    let mut all: Vec<(Finding, u64)> = if fingerprint.is_some() {
        std::mem::take(&mut outcome.findings)
            .into_iter()
            .zip(prints)
            .collect()
    } else {
        std::mem::take(&mut outcome.findings)
            .into_iter()
            .map(|f| (f, 0))
            .collect()
    };
    all.extend(found);
    all.sort_by(|a, b| a.0.sort_key().cmp(&b.0.sort_key()));
    let (findings, prints): (Vec<Finding>, Vec<u64>) = all.into_iter().unzip();
    outcome.findings = findings;
    if fingerprint.is_some() {
        outcome.fingerprints = prints;
    }
    Ok(())
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
