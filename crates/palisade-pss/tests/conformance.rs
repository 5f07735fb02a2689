//! Every Pod Security Admission fixture (see `../shared/conformance/pss/README.md`): pass
//! cases must be allowed, fail cases denied with the expected text in the message.

use std::time::Instant;

use palisade_core::{load_path, Limits};
use palisade_pss::{check, evaluate, forbidden_message, CheckId, Level, Version};
use serde_json::Value;

#[test]
fn all_upstream_cases() {
    let Some(dir) = palisade_testdata::shared("conformance/pss", "all_upstream_cases") else {
        return;
    };
    let index = std::fs::read_to_string(dir.join("index.json")).expect("read index.json");
    let index: Value = serde_json::from_str(&index).expect("parse index.json");
    let cases = index["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 4537, "case count");
    let start = Instant::now();
    let limits = Limits::default();
    let mut failures = Vec::new();
    let (mut allowed, mut denied) = (0, 0);
    let mut evaluating = std::time::Duration::ZERO;
    for case in cases {
        let file = case["file"].as_str().expect("file");
        let level: Level = case["level"]
            .as_str()
            .expect("level")
            .parse()
            .expect("level");
        let version: Version = case["version"]
            .as_str()
            .expect("version")
            .parse()
            .expect("version");
        let loaded = load_path(&dir.join(file), file, &limits);
        assert!(loaded.errors.is_empty(), "{file}: {:?}", loaded.errors);
        assert_eq!(loaded.objects.len(), 1, "{file}");
        let object = &loaded.objects[0].value;
        let timer = Instant::now();
        let evaluation = evaluate(object, level, version).expect("a pod");
        evaluating += timer.elapsed();
        let message = forbidden_message(level, version, &evaluation);
        match case["expect"].as_str() {
            Some("allowed") => {
                if evaluation.allowed {
                    allowed += 1;
                } else {
                    failures.push(format!("{file}: expected allowed, got {message}"));
                }
            }
            Some("denied") => {
                let id = check_id(case);
                let wanted = case["message_contains"].as_str().unwrap_or(id.as_str());
                let prefix = format!("violates PodSecurity \"{level}:{version}\": ");
                // The targeted check, or at restricted the check that overrides it there.
                let info = check(id);
                let reporter = match info.overridden_by {
                    Some((by, from))
                        if level == Level::Restricted && version.policy_minor() >= from =>
                    {
                        by
                    }
                    _ => info.id,
                };
                if evaluation.allowed {
                    failures.push(format!("{file}: expected denied, was allowed"));
                } else if !message.contains(wanted) || !message.starts_with(&prefix) {
                    failures.push(format!("{file}: {wanted:?} not in {message}"));
                } else if !evaluation.violations.iter().any(|v| v.check == reporter) {
                    failures.push(format!("{file}: no {reporter} violation in {message}"));
                } else if evaluation.violations.iter().any(|v| v.pointers.is_empty()) {
                    failures.push(format!("{file}: a violation without pointers: {message}"));
                } else {
                    denied += 1;
                }
            }
            other => panic!("{file}: unknown expectation {other:?}"),
        }
    }
    println!(
        "pss conformance: {} of {} cases pass ({allowed} allowed, {denied} denied) in {:?} \
         ({evaluating:?} evaluating, the rest loading YAML)",
        allowed + denied,
        cases.len(),
        start.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_id(case: &Value) -> CheckId {
    case["check"]
        .as_str()
        .expect("fail cases name a check")
        .parse()
        .expect("a known check")
}
