//! `palisade fix --write --unsafe-fixes` over every object of the real-world corpus
//! (`../shared/corpus`): no new finding, only the patched lines change, every patched object
//! stays valid (by the API server's rules for the touched fields and, when `kubernetes-validate`
//! is installed, by the Kubernetes OpenAPI schema), the findings the fixes target are gone, and
//! a second run changes nothing.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_core::{load_str, Limits};
use palisade_rules::fixes::violations;
use serde_json::Value;

mod common;

use common::{root, run};

/// (file, rule, pointer) of a finding.
type Key = (String, String, String);

fn key(f: &Value) -> Key {
    let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
    (text("file"), text("rule"), text("pointer"))
}

fn scan(dir: &Path) -> Vec<Value> {
    let (_, out, err) = run(dir, &["scan", "--no-config", "-f", "json", "corpus"]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    report["findings"].as_array().unwrap().clone()
}

/// Copies the corpus's manifests (not its build scripts).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "_tools" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The files under `dir`, relative to it.
fn files(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            files(&entry.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

/// Keys the fixes set, replace or remove: a line that changes must hold one of them.
const TOUCHED: &[&str] = &[
    "allowPrivilegeEscalation",
    "appArmorProfile",
    "automountServiceAccountToken",
    "capabilities",
    "drop",
    "hostIPC",
    "hostNetwork",
    "hostPID",
    "hostPort",
    "imagePullPolicy",
    "limits",
    "privileged",
    "procMount",
    "readOnlyRootFilesystem",
    "requests",
    "resources",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile",
    "securityContext",
    "shareProcessNamespace",
    "type",
];

/// The lines of `old` that the fix changed but should have kept: lines of untouched keys,
/// and comments that did not survive.
fn unexpected_changes(name: &str, old: &str, new: &str) -> Vec<String> {
    let diff = palisade_fix::unified_diff(old, new, name, 0);
    let removed: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .map(|l| &l[1..])
        .collect();
    let added: Vec<&str> = diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| &l[1..])
        .collect();
    let mut out = Vec::new();
    for line in removed {
        // A last line that gained its line break, or a JSON line that gained a comma.
        if added
            .iter()
            .any(|a| *a == line || a.strip_suffix(',') == Some(line))
        {
            continue;
        }
        if let Some(at) = line.find(" #") {
            let comment = line[at..].trim();
            if !added.iter().any(|a| a.contains(comment)) {
                out.push(format!("{name}: comment lost: {line}"));
                continue;
            }
        }
        let trimmed = line.trim().trim_start_matches("- ");
        if matches!(trimmed, "{}" | "[]" | "null" | "~" | "") {
            continue;
        }
        let key = trimmed
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .trim_matches('"');
        if !TOUCHED.contains(&key) {
            out.push(format!("{name}: untouched line rewritten: {line}"));
        }
    }
    out
}

/// `kubernetes-validate`: the environment's `PALISADE_KUBERNETES_VALIDATE`, the virtual
/// environment `.ci/run` installs it into, or the one on the `PATH`.
fn kubernetes_validate() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PALISADE_KUBERNETES_VALIDATE").map(PathBuf::from),
        Some(root().join("target/kubernetes-validate/bin/kubernetes-validate")),
        Some(PathBuf::from("kubernetes-validate")),
    ];
    candidates.into_iter().flatten().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// The schema errors `kubernetes-validate` reports for `files` under `dir`, by file, with the
/// directory left out so that the two copies compare.
fn schema_errors(tool: &Path, dir: &Path, files: &[&String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for chunk in files.chunks(200) {
        let output = Command::new(tool)
            .current_dir(dir)
            .args(["--quiet", "--no-warn"])
            .args(chunk.iter().map(|f| f.as_str()))
            .output()
            .unwrap();
        for line in String::from_utf8_lossy(&output.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&output.stderr).lines())
        {
            if line.starts_with("ERROR") {
                out.insert(line.to_owned());
            }
        }
    }
    out
}

#[test]
fn fixing_the_whole_corpus_keeps_every_object_valid_and_every_other_byte() {
    let Some(corpus) = palisade_testdata::shared(
        "corpus",
        "fixing_the_whole_corpus_keeps_every_object_valid_and_every_other_byte",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("original");
    copy_dir(&corpus, &original.join("corpus"));
    let work = dir.path().join("work");
    copy_dir(&corpus, &work.join("corpus"));

    let before = scan(&work);
    let (code, out, err) = run(
        &work,
        &["fix", "--no-config", "--write", "--unsafe-fixes", "corpus"],
    );
    // Exit code 2: the corpus holds files that do not decode; nothing else may fail.
    assert!(code == 0 || code == 2, "{out}{err}");
    let failures: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("error:") && !l.contains(": invalid YAML: "))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Fixes refused because the object would be invalid, by (file, line:column, rule).
    let refused: BTreeSet<(String, String, String)> = err
        .lines()
        .filter_map(|l| {
            let (at, rest) = l.split_once(": ")?;
            let (rule, rest) = rest.split_once(' ')?;
            rest.starts_with("fix not applied:").then_some(())?;
            let (file, pos) = at.split_once(':')?;
            Some((file.to_owned(), pos.to_owned(), rule.to_owned()))
        })
        .collect();
    eprintln!("{}", out.trim());
    eprintln!("{} fixes refused as invalid", refused.len());

    let after = scan(&work);
    let before_keys: BTreeSet<Key> = before.iter().map(key).collect();
    let after_keys: BTreeSet<Key> = after.iter().map(key).collect();
    let new: Vec<&Key> = after_keys.difference(&before_keys).collect();
    assert!(new.is_empty(), "new findings: {new:#?}");
    let left: Vec<Key> = before
        .iter()
        .filter(|f| f.get("fix").is_some())
        .filter(|f| {
            let pos = format!("{}:{}", f["line"], f["column"]);
            let rule = f["rule"].as_str().unwrap_or_default().to_owned();
            !refused.contains(&(f["file"].as_str().unwrap_or_default().to_owned(), pos, rule))
        })
        .map(key)
        .filter(|k| after_keys.contains(k))
        .collect();
    assert!(left.is_empty(), "fixed findings still found: {left:#?}");

    let mut names = Vec::new();
    files(&work.join("corpus"), "corpus/", &mut names);
    names.sort();
    let mut changed = Vec::new();
    let mut problems = Vec::new();
    let limits = Limits::default();
    for name in &names {
        let old = std::fs::read(original.join(name)).unwrap();
        let new = std::fs::read(work.join(name)).unwrap();
        if old == new {
            continue;
        }
        changed.push(name);
        let (old, new) = (
            String::from_utf8(old).unwrap(),
            String::from_utf8(new).unwrap(),
        );
        problems.extend(unexpected_changes(name, &old, &new));
        let objects = |text: &str| -> HashMap<(usize, Option<usize>), Value> {
            load_str(text, name, &limits)
                .objects
                .into_iter()
                .map(|o| ((o.document, o.item), o.value))
                .collect()
        };
        let old_objects = objects(&old);
        for (at, value) in objects(&new) {
            let was = old_objects.get(&at).map(violations).unwrap_or_default();
            for v in violations(&value) {
                if !was.contains(&v) {
                    problems.push(format!("{name} document {}: invalid: {v}", at.0));
                }
            }
        }
    }
    assert!(!changed.is_empty(), "the fixes changed no file");
    eprintln!("{} files changed", changed.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    match kubernetes_validate() {
        Some(tool) => {
            // The tool does report what the schema refuses.
            let probe = "probe.yaml".to_owned();
            std::fs::write(
                dir.path().join(&probe),
                "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  \
                 - name: a\n    image: b\n    securityContext: {privileged: \"yes\"}\n",
            )
            .unwrap();
            assert_eq!(schema_errors(&tool, dir.path(), &[&probe]).len(), 1);
            let was = schema_errors(&tool, &original, &changed);
            let now = schema_errors(&tool, &work, &changed);
            let new: Vec<&String> = now.difference(&was).collect();
            assert!(new.is_empty(), "new schema errors: {new:#?}");
            eprintln!(
                "kubernetes-validate: {} changed files, no new schema error",
                changed.len()
            );
        }
        None => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must install kubernetes-validate (.ci/run puts it in target/kubernetes-validate)"
            );
            eprintln!(
                "SKIPPED the OpenAPI schema check: kubernetes-validate is not installed \
                 (.ci/run installs it into target/kubernetes-validate)"
            )
        }
    }

    // A second run has nothing left to do.
    let (_, out, err) = run(&work, &["fix", "--no-config", "--unsafe-fixes", "corpus"]);
    assert_eq!(out, "", "{err}");
    eprintln!("findings: {} before, {} after", before.len(), after.len());
}

#[test]
fn the_line_check_catches_rewritten_quotes_and_lost_comments() {
    let old =
        "resources:\n  requests:\n    cpu: \"100m\"\nimage: a # pinned\nprivileged: true # agent\n";
    let requoted = old.replace("\"100m\"", "100m");
    assert_eq!(
        unexpected_changes("f", old, &requoted),
        ["f: untouched line rewritten:     cpu: \"100m\""]
    );
    let uncommented = old.replace("a # pinned", "a");
    assert_eq!(
        unexpected_changes("f", old, &uncommented),
        ["f: comment lost: image: a # pinned"]
    );
    let fixed = old.replace("true # agent", "false # agent");
    assert_eq!(unexpected_changes("f", old, &fixed), Vec::<String>::new());
}
