//! Runs every case of the Gatekeeper policy library (`../shared/conformance/gatekeeper-library`,
//! see its README) with the Rego engine, as `gator verify` runs them, and the cases of the
//! templates with a CEL variant with the CEL engine: every case passes (270 and 131), and the
//! passing lists `tests/passing-rego.txt` and `tests/passing-cel.txt` record them.
//!
//! Set `PALISADE_UPDATE_PASSING=1` to rewrite the passing list with every case that passes now
//! (it must remain a superset of the old list, or the test fails anyway).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_policy::suite::{load_policies_with, run_case, Assertion};
use palisade_policy::{EngineChoice, PolicySet};
use serde_json::Value;

fn passing_list(name: &str) -> (PathBuf, BTreeSet<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let listed = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    (path, listed)
}

#[test]
fn gatekeeper_library_rego() {
    run(
        "gatekeeper_library_rego",
        EngineChoice::Rego,
        "passing-rego.txt",
        270,
    );
}

/// The cases of the 16 templates that carry a `K8sNativeValidation` engine, with it alone.
#[test]
fn gatekeeper_library_cel() {
    run(
        "gatekeeper_library_cel",
        EngineChoice::Cel,
        "passing-cel.txt",
        131,
    );
}

fn run(test: &str, engine: EngineChoice, list: &str, expected: usize) {
    let Some(root) = palisade_testdata::shared("conformance/gatekeeper-library", test) else {
        return;
    };
    let text = std::fs::read_to_string(root.join("cases.json")).expect("cases.json");
    let index: Value = serde_json::from_str(&text).expect("cases.json parses");
    let all = index["cases"].as_array().expect("cases");
    assert_eq!(all.len(), 270, "the library has 270 cases");
    let cases: Vec<&Value> = all
        .iter()
        .filter(|c| {
            engine != EngineChoice::Cel
                || c["template_engines"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x == "K8sNativeValidation"))
        })
        .collect();
    assert_eq!(cases.len(), expected);

    let mut sets: BTreeMap<(String, String), Result<PolicySet, String>> = BTreeMap::new();
    let mut passed = BTreeSet::new();
    let mut failed = Vec::new();
    for case in cases.iter().copied() {
        let s = |k: &str| case[k].as_str().unwrap_or_default().to_owned();
        // Case names repeat within a test, so the object file is part of the name.
        let id = format!(
            "{} :: {} :: {} :: {}",
            s("suite"),
            s("test"),
            s("case"),
            s("object")
        );
        let key = (s("template"), s("constraint"));
        let set = sets
            .entry(key.clone())
            .or_insert_with(|| load_policies_with(&root.join(&key.0), &root.join(&key.1), engine));
        let result = match set {
            Err(e) => Err(e.clone()),
            Ok(set) => {
                let inventory: Vec<PathBuf> = case["inventory"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(|p| root.join(p))
                    .collect();
                let assertions = case["assertions"]
                    .as_array()
                    .expect("assertions")
                    .iter()
                    .map(Assertion::parse)
                    .collect::<Result<Vec<_>, _>>()
                    .expect("assertions parse");
                run_case(set, &root.join(s("object")), &inventory, &assertions)
            }
        };
        match result {
            Ok(()) => {
                passed.insert(id);
            }
            Err(e) => failed.push(format!("{id}: {e}")),
        }
    }
    ratchet(list, &passed, &failed, cases.len());
    // Both engines pass every case now: a failure is a regression even before the list says so.
    assert!(failed.is_empty(), "{} cases fail", failed.len());
}

fn ratchet(list: &str, passed: &BTreeSet<String>, failed: &[String], total: usize) {
    let (path, listed) = passing_list(list);
    eprintln!("{} of {total} cases pass", passed.len());
    for f in failed {
        eprintln!("FAIL {f}");
    }
    let lost: Vec<&String> = listed.difference(passed).collect();
    if std::env::var_os("PALISADE_UPDATE_PASSING").is_some() && lost.is_empty() {
        let mut text = passed.iter().cloned().collect::<Vec<_>>().join("\n");
        text.push('\n');
        std::fs::write(&path, text).expect("write the passing list");
    }
    assert!(
        lost.is_empty(),
        "cases that passed before fail now: {lost:#?}"
    );
    let new: Vec<&String> = passed.difference(&listed).collect();
    assert!(
        new.is_empty() || std::env::var_os("PALISADE_UPDATE_PASSING").is_some(),
        "{} more cases pass: run with PALISADE_UPDATE_PASSING=1 to record them",
        new.len()
    );
}
