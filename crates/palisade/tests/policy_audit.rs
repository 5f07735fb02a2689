//! `palisade policy test` shows the audit annotations a ValidatingAdmissionPolicy gives each
//! case's object, one indented line each under the case.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(cargo_bin("palisade"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("palisade runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replicas
spec:
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE"]
        resources: ["deployments"]
  validations:
    - expression: object.spec.replicas <= 5
      message: at most 5 replicas
  auditAnnotations:
    - key: high-replica-count
      valueExpression: "object.spec.replicas > 3 ? 'Deployment ' + object.metadata.name + ' has ' + string(object.spec.replicas) + ' replicas' : null"
    - key: note
      valueExpression: "'line one\\nline two'"
"#;

const BINDING: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicas-binding
spec:
  policyName: replicas
  validationActions: [Deny]
"#;

const SUITE: &str = r#"kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
metadata:
  name: replicas
tests:
- name: replicas
  template: policy.yaml
  constraint: binding.yaml
  cases:
  - name: four
    object: four.yaml
    assertions:
    - violations: no
  - name: seven
    object: seven.yaml
    assertions:
    - violations: 0
"#;

fn deployment(name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: {replicas}\n"
    )
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in [
        ("policy.yaml", POLICY.to_owned()),
        ("binding.yaml", BINDING.to_owned()),
        ("suite.yaml", SUITE.to_owned()),
        ("four.yaml", deployment("web", 4)),
        ("seven.yaml", deployment("big", 7)),
    ] {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

#[test]
fn audit_annotations_are_printed_under_their_case() {
    let dir = setup();
    let (code, out) = run(dir.path(), &["policy", "test"]);
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let four = lines
        .iter()
        .position(|l| l.starts_with("ok   ") && l.ends_with("suite.yaml replicas/four"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        lines[four + 1],
        "     audit replicas/high-replica-count: Deployment web has 4 replicas"
    );
    // A line break in a value is escaped, so each annotation stays on one line.
    assert_eq!(
        lines[four + 2],
        r"     audit replicas/note: line one\nline two"
    );
    let seven = lines
        .iter()
        .position(|l| l.starts_with("FAIL ") && l.contains("suite.yaml replicas/seven:"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(lines[seven].contains("at most 5 replicas"), "{out}");
    assert_eq!(
        lines[seven + 1],
        "     audit replicas/high-replica-count: Deployment big has 7 replicas"
    );
    assert!(out.contains("1 passed, 1 failed"), "{out}");
}

#[test]
fn quiet_shows_the_annotations_of_failing_cases_only() {
    let dir = setup();
    let (_, out) = run(dir.path(), &["policy", "test", "-q"]);
    assert!(!out.contains("Deployment web"), "{out}");
    assert!(
        out.contains("     audit replicas/high-replica-count: Deployment big has 7 replicas"),
        "{out}"
    );
}
