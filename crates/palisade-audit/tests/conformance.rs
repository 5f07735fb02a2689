//! Falco's k8s-audit regression cases (see `../shared/conformance/falco-k8saudit/README.md`):
//! the 66 cases of `index.testing.json` (current rules) and the 66 of `index.legacy.json` (the
//! 0.5.0-era rules), each loading its rules files in order and evaluating its trace.
//!
//! A case passes when the alerts are exactly as expected: the count of every listed rule, the
//! priorities present or absent, no alert at all where no detection is expected, and the
//! "data not recognized" error for the trace that is not an audit event. Every case passes.

use std::collections::BTreeMap;
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

/// The two cases where the index's fallback contradicts Falco, with the one alert Falco gives.
///
/// Upstream asserts only a clean exit for them, so the index falls back to the legacy case's
/// `detect: false`. But the legacy case loaded Falco 0.34.1's overlay, which appends nginx to
/// `falco_privileged_images` and `falco_hostnetwork_images`, while the testing overlay appends it
/// to the renamed `k8s_audit_*` lists. `engine_v4_k8s_audit_rules.yaml` defines the rule again
/// (Falco's collector replaces a rule defined twice) with the old list name, which no loaded file
/// defines; Falco substitutes only defined lists, so the name stays a literal string and the
/// nginx pod is reported. The loader test `redefined_rules_replace_and_unknown_list_names_are_literals`
/// pins both behaviours, and the legacy cases check the legacy overlay's silence.
const FALCO_GIVES: &[(&str, &str)] = &[
    (
        "TestK8SAudit_Legacy_CompatEngineV4CreatePrivilegedTrustedPod",
        "Create Privileged Pod",
    ),
    (
        "TestK8SAudit_Legacy_CompatEngineV4CreateHostnetworkTrustedPod",
        "Create HostNetwork Pod",
    ),
];

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
    let upstream_asserts_nothing =
        e["any_detection"].is_null() && e["rule_counts"].as_object().is_none_or(|m| m.is_empty());
    let falco_gives = FALCO_GIVES
        .iter()
        .find(|(test, _)| case["test"] == *test)
        .filter(|_| upstream_asserts_nothing);
    if let Some((_, rule)) = falco_gives {
        if out.total != 1 || out.counts.get(*rule) != Some(&1) {
            problems.push(format!(
                "Falco reports '{rule}' once, palisade gave {:?}",
                out.counts
            ));
        }
    }
    let detect = e["any_detection"]
        .as_bool()
        .or_else(|| falco_gives.map(|_| true))
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
    let mut passed = 0usize;
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
                Ok(()) => passed += 1,
                Err(why) => failed.push(format!("{name}: {why}")),
            }
        }
    }
    eprintln!("falco-k8saudit conformance: {passed}/{total} cases pass");
    for f in &failed {
        eprintln!("  FAIL {f}");
    }
    assert_eq!(passed, total, "every case passes: {failed:#?}");
}
