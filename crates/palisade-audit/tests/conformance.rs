//! Falco's k8s-audit regression cases (see `../shared/conformance/falco-k8saudit/README.md`):
//! the 66 cases of `index.testing.json` (current rules) and the 66 of `index.legacy.json` (the
//! 0.5.0-era rules), each loading its rules files in order and evaluating its trace.
//!
//! A case passes when the alerts are exactly as expected: the count of every listed rule, the
//! priorities present or absent, no alert at all where no detection is expected, and the
//! "data not recognized" error for the trace that is not an audit event. The cases that pass are
//! listed in `tests/passing.txt`; a listed case that fails is a regression. Set
//! `PALISADE_UPDATE_PASSING=1` to rewrite the list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use palisade_audit::{read_events, Item, Priority, RulesLoader};
use serde_json::Value;

struct Outcome {
    counts: BTreeMap<String, usize>,
    priorities: BTreeMap<Priority, usize>,
    stderr: Vec<String>,
    total: usize,
}

fn run(root: &Path, rules_files: &[Value], trace: &str) -> Result<Outcome, String> {
    let mut loader = RulesLoader::new();
    for f in rules_files {
        let rel = f.as_str().ok_or("rules file is not a string")?;
        loader
            .load_path(&root.join(rel), rel)
            .map_err(|e| e.to_string())?;
    }
    let ruleset = loader.compile().map_err(|e| e.to_string())?;
    let mut reader = palisade_audit::open(root.join(trace).to_str().ok_or("path")?)
        .map_err(|e| e.to_string())?;
    let mut out = Outcome {
        counts: BTreeMap::new(),
        priorities: BTreeMap::new(),
        stderr: Vec::new(),
        total: 0,
    };
    read_events(&mut reader, trace, &mut |item| match item {
        Item::Event(ev) => ruleset.evaluate(&ev, &mut |alert| {
            *out.counts.entry(alert.rule.to_string()).or_default() += 1;
            *out.priorities.entry(alert.priority).or_default() += 1;
            out.total += 1;
        }),
        Item::Error(e) => out.stderr.push(e.to_string()),
    });
    Ok(out)
}

fn priority(v: &Value) -> Priority {
    Priority::parse(v.as_str().unwrap_or_default()).expect("known priority")
}

fn check_counts(expected: &Value, out: &Outcome, problems: &mut Vec<String>) {
    for (rule, n) in expected.as_object().into_iter().flatten() {
        let got = out.counts.get(rule).copied().unwrap_or(0);
        if Some(got as u64) != n.as_u64() {
            problems.push(format!("rule '{rule}': {got} alerts, expected {n}"));
        }
    }
}

fn check_stderr(pattern: Option<&str>, out: &Outcome, problems: &mut Vec<String>) {
    match pattern {
        Some(p) => {
            if !out.stderr.iter().any(|e| e.contains(p)) {
                problems.push(format!(
                    "expected an error containing '{p}', got {:?}",
                    out.stderr
                ));
            }
        }
        None => {
            if !out.stderr.is_empty() {
                problems.push(format!("unexpected input errors {:?}", out.stderr));
            }
        }
    }
}

fn testing_case(root: &Path, case: &Value) -> Result<(), String> {
    let out = run(
        root,
        case["rules_files"].as_array().ok_or("rules_files")?,
        case["trace_file"].as_str().ok_or("trace_file")?,
    )?;
    let e = &case["expect"];
    let mut problems = Vec::new();
    check_counts(&e["rule_counts"], &out, &mut problems);
    for p in e["priorities_nonzero"].as_array().into_iter().flatten() {
        if out.priorities.get(&priority(p)).copied().unwrap_or(0) == 0 {
            problems.push(format!("no alert at priority {p}"));
        }
    }
    for p in e["priorities_zero"].as_array().into_iter().flatten() {
        if out.priorities.get(&priority(p)).copied().unwrap_or(0) != 0 {
            problems.push(format!("alerts at priority {p}"));
        }
    }
    let detect = e["any_detection"]
        .as_bool()
        .or_else(|| case["legacy_detect"].as_bool());
    match detect {
        Some(true) if out.total == 0 => problems.push("no alert".to_owned()),
        Some(false) if out.total != 0 => {
            problems.push(format!("unexpected alerts {:?}", out.counts))
        }
        _ => {}
    }
    // The regexps of the index are plain text.
    check_stderr(e["stderr_regexp"].as_str(), &out, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn legacy_case(root: &Path, case: &Value) -> Result<(), String> {
    let out = run(
        root,
        case["rules_files"].as_array().ok_or("rules_files")?,
        case["trace_file"].as_str().ok_or("trace_file")?,
    )?;
    let mut problems = Vec::new();
    check_counts(&case["detect_counts"], &out, &mut problems);
    let detect = case["detect"].as_bool().unwrap_or(false);
    if detect {
        if out.total == 0 {
            problems.push("no alert".to_owned());
        }
        if let Some(level) = case["detect_level"].as_str() {
            let p = Priority::parse(level).expect("known priority");
            if out.priorities.get(&p).copied().unwrap_or(0) == 0 {
                problems.push(format!("no alert at priority {level}"));
            }
        }
    } else if out.total != 0 {
        problems.push(format!("unexpected alerts {:?}", out.counts));
    }
    check_stderr(case["stderr_contains"].as_str(), &out, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn falco_k8saudit_conformance() {
    let Some(root) =
        palisade_testdata::shared("conformance/falco-k8saudit", "falco_k8saudit_conformance")
    else {
        return;
    };
    let passing_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/passing.txt");
    let listed: BTreeSet<String> = std::fs::read_to_string(&passing_path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let mut passed = BTreeSet::new();
    let mut failed = Vec::new();
    let mut total = 0usize;
    for (index, name_key) in [
        ("index.testing.json", "test"),
        ("index.legacy.json", "name"),
    ] {
        let text = std::fs::read_to_string(root.join(index)).expect("index readable");
        let doc: Value = serde_json::from_str(&text).expect("index parses");
        let cases = doc["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 66, "{index} holds 66 cases");
        for case in cases {
            total += 1;
            let prefix = if name_key == "test" {
                "testing"
            } else {
                "legacy"
            };
            let name = format!("{prefix}/{}", case[name_key].as_str().unwrap_or_default());
            let result = if prefix == "testing" {
                testing_case(&root, case)
            } else {
                legacy_case(&root, case)
            };
            match result {
                Ok(()) => {
                    passed.insert(name);
                }
                Err(why) => failed.push(format!("{name}: {why}")),
            }
        }
    }
    eprintln!(
        "falco-k8saudit conformance: {}/{total} cases pass",
        passed.len()
    );
    for f in &failed {
        eprintln!("  FAIL {f}");
    }
    if std::env::var_os("PALISADE_UPDATE_PASSING").is_some() {
        let mut text = std::fs::read_to_string(&passing_path)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect::<String>();
        for p in &passed {
            text.push_str(p);
            text.push('\n');
        }
        std::fs::write(&passing_path, text).expect("write passing list");
    }
    let regressed: Vec<&String> = listed.difference(&passed).collect();
    assert!(regressed.is_empty(), "listed cases now fail: {regressed:?}");
    assert!(!passed.is_empty(), "no case passes");
}
