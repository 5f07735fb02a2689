//! A Pod Security rule and the hardening rule that judge the same control report one finding
//! where both find the same field: one location, both rule IDs, in every output format; and
//! suppressing either rule, by any means, leaves the other reported alone.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// A namespace that enforces baseline and audits restricted, and a deployment in it with a
/// privileged container and a hostPath volume of the runtime socket.
const MANIFEST: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: production-apps
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/audit: restricted
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: production-apps
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1.0
        securityContext:
          privileged: true
        volumeMounts:
        - {name: docker, mountPath: /var/run/docker.sock}
      volumes:
      - name: docker
        hostPath:
          path: /var/run/docker.sock
";

const PRIVILEGED_LINE: u64 = 21;
const HOST_PATH_LINE: u64 = 26;

fn scan(dir: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["scan", "app.yaml", "--format", "json"];
    args.extend(extra);
    let (code, stdout, stderr) = common::run(dir, &args);
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("JSON report");
    report["findings"].as_array().expect("findings").clone()
}

fn dir_with(manifest: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("app.yaml"), manifest).expect("written");
    dir
}

/// The findings on a line: (rule, related rules, severity).
fn on_line(findings: &[Value], line: u64) -> Vec<(String, Vec<String>, String)> {
    findings
        .iter()
        .filter(|f| f["line"] == line)
        .map(|f| {
            let related = f["related"]
                .as_array()
                .map(|r| r.iter().map(|id| id.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            (
                f["rule"].as_str().unwrap().to_owned(),
                related,
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn one(rule: &str, related: &[&str], severity: &str) -> Vec<(String, Vec<String>, String)> {
    vec![(
        rule.to_owned(),
        related.iter().map(|r| (*r).to_owned()).collect(),
        severity.to_owned(),
    )]
}

#[test]
fn a_pod_security_check_and_a_hardening_rule_on_one_field_are_one_finding() {
    let dir = dir_with(MANIFEST);
    let findings = scan(dir.path(), &[]);
    assert_eq!(
        on_line(&findings, PRIVILEGED_LINE),
        one("POD001", &["PSS007"], "critical")
    );
    assert_eq!(
        on_line(&findings, HOST_PATH_LINE),
        one("POD003", &["PSS004", "PSS016"], "critical")
    );
    let privileged = findings
        .iter()
        .find(|f| f["line"] == PRIVILEGED_LINE)
        .unwrap();
    let message = privileged["message"].as_str().unwrap();
    assert!(
        message.contains("runs privileged") && message.contains("PSS007: privileged"),
        "{message}"
    );
    assert!(
        privileged["fix"].is_object(),
        "the hardening rule's fix stays"
    );

    let (_, text, _) = common::run(dir.path(), &["scan", "app.yaml"]);
    assert_eq!(text.matches("app.yaml:21:").count(), 1, "{text}");
    assert!(text.contains("critical[POD001, PSS007] "), "{text}");
    assert!(
        text.contains("privileged-container, pss-privileged"),
        "{text}"
    );

    let (_, sarif, _) = common::run(dir.path(), &["scan", "app.yaml", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).expect("SARIF");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let result = results
        .iter()
        .find(|r| r["ruleId"] == "POD001")
        .expect("POD001 result");
    assert_eq!(
        result["properties"]["relatedRules"],
        serde_json::json!(["PSS007"])
    );
    assert!(!results.iter().any(|r| r["ruleId"] == "PSS007"));
}

#[test]
fn suppressing_either_rule_leaves_the_other_reported_alone() {
    let dir = dir_with(MANIFEST);
    let findings = scan(dir.path(), &["--ignore", "PSS007"]);
    assert_eq!(
        on_line(&findings, PRIVILEGED_LINE),
        one("POD001", &[], "critical")
    );
    let findings = scan(dir.path(), &["--ignore", "privileged-container"]);
    assert_eq!(
        on_line(&findings, PRIVILEGED_LINE),
        one("PSS007", &[], "high")
    );
    // The other pair of the object is still merged.
    assert_eq!(
        on_line(&findings, HOST_PATH_LINE),
        one("POD003", &["PSS004", "PSS016"], "critical")
    );

    let annotated = MANIFEST.replace(
        "  namespace: production-apps\nspec:",
        "  namespace: production-apps\n  annotations:\n    palisade.dev/ignore: PSS007\nspec:",
    );
    let dir = dir_with(&annotated);
    let findings = scan(dir.path(), &[]);
    assert_eq!(
        on_line(&findings, PRIVILEGED_LINE + 2),
        one("POD001", &[], "critical")
    );

    let dir = dir_with(MANIFEST);
    std::fs::write(
        dir.path().join(".palisade.yaml"),
        "suppressions:\n- rule: POD001\n  reason: a node agent\n",
    )
    .unwrap();
    let findings = scan(dir.path(), &[]);
    assert_eq!(
        on_line(&findings, PRIVILEGED_LINE),
        one("PSS007", &[], "high")
    );
}

#[test]
fn the_examples_report_no_field_twice_for_one_control() {
    let (_, stdout, stderr) =
        common::run(&common::root(), &["scan", "examples/", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).expect(&stderr);
    let findings = report["findings"].as_array().unwrap();
    let merged = findings.iter().filter(|f| f["related"].is_array()).count();
    assert!(merged > 0, "the examples show merged findings");
    // Every Pod Security finding left alone has no hardening finding of its control on its line.
    let places: BTreeSet<(String, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for f in findings.iter().filter(|f| f["category"] == "pss") {
        let rule = f["rule"].as_str().unwrap();
        for partner in palisade_rules::rules::pss::same_control(rule) {
            let key = (
                f["file"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                partner.to_owned(),
            );
            assert!(!places.contains(&key), "{rule} and {partner} at {key:?}");
        }
    }
}
