//! End-to-end tests of `palisade policy test`: gator suites, pass/fail per case, exit codes,
//! and the audit annotations a ValidatingAdmissionPolicy gives each case's object (one
//! indented line each under the case).

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cargo_bin("palisade"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("palisade runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8srequiredlabels
spec:
  crd:
    spec:
      names:
        kind: K8sRequiredLabels
      validation:
        openAPIV3Schema:
          type: object
          properties:
            labels:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8srequiredlabels
        violation[{"msg": msg}] {
          required := input.parameters.labels[_]
          not input.review.object.metadata.labels[required]
          msg := sprintf("missing label %v", [required])
        }
"#;

const CONSTRAINT: &str = r#"apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata:
  name: must-have-owner
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Namespace"]
  parameters:
    labels: ["owner", "team"]
"#;

fn suite(cases: &str) -> String {
    format!(
        "kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
metadata:
  name: labels
tests:
- name: required-labels
  template: template.yaml
  constraint: constraint.yaml
  cases:
{cases}"
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

fn setup(cases: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "template.yaml", TEMPLATE);
    write(dir.path(), "constraint.yaml", CONSTRAINT);
    write(
        dir.path(),
        "good.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {owner: me, team: x}\n",
    );
    write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: b\n",
    );
    write(dir.path(), "suite.yaml", &suite(cases));
    dir
}

#[test]
fn a_passing_suite_prints_every_case_and_exits_0() {
    let dir = setup(
        "  - name: labelled
    object: good.yaml
    assertions:
    - violations: no
  - name: unlabelled
    object: bad.yaml
    assertions:
    - violations: 2
    - violations: 1
      message: owner
    - violations: yes
      message: ^missing label team$
",
    );
    let (code, out, err) = run(dir.path(), &["policy", "test"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ok   ./suite.yaml required-labels/labelled"),
        "{out}"
    );
    assert!(
        out.contains("ok   ./suite.yaml required-labels/unlabelled"),
        "{out}"
    );
    assert!(
        out.contains("2 passed, 0 failed, 0 skipped in 1 suite(s)"),
        "{out}"
    );
}

#[test]
fn a_failing_case_is_named_with_its_reason_and_exits_1() {
    let dir = setup(
        "  - name: wrong-count
    object: bad.yaml
    assertions:
    - violations: 1
  - name: labelled
    object: good.yaml
    assertions:
    - violations: no
",
    );
    let (code, out, _) = run(dir.path(), &["policy", "test", "suite.yaml"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL suite.yaml required-labels/wrong-count: expected 1 violation(s), got 2"),
        "{out}"
    );
    assert!(out.contains("1 passed, 1 failed"), "{out}");
}

#[test]
fn a_broken_template_fails_its_test_with_the_rego_line() {
    let dir = setup(
        "  - name: labelled
    object: good.yaml
    assertions:
    - violations: no
",
    );
    write(
        dir.path(),
        "template.yaml",
        &TEMPLATE.replace("msg := sprintf", "msg := := sprintf"),
    );
    let (code, out, _) = run(dir.path(), &["policy", "test", "."]);
    assert_eq!(code, 1, "{out}");
    // Line 25 of the file is the broken Rego line.
    assert!(out.contains("template.yaml:25:"), "{out}");
    assert!(out.contains("Rego does not compile"), "{out}");
}

#[test]
fn no_suite_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = run(dir.path(), &["policy", "test"]);
    assert_eq!(code, 2);
    assert!(err.contains("no Suite"), "{err}");
}

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies")
}

#[test]
fn the_example_policies_pass_their_suites() {
    let (code, out, err) = run(&examples(), &["policy", "test"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("8 passed, 0 failed, 0 skipped in 3 suite(s)"),
        "{out}"
    );
}

fn json_findings(stdout: &str) -> Vec<serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(stdout).expect("JSON report");
    doc["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn scan_reports_violations_of_policy_dirs_named_after_their_policy() {
    let dir = examples();
    let (code, out, err) = run(
        &dir,
        &[
            "scan",
            "allowed-repos/disallowed.yaml",
            "--policy",
            "allowed-repos",
            "--policy",
            "vap",
            "--select",
            "POL001",
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    let found: Vec<(String, String, u64)> = json_findings(&out)
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap_or_default().to_owned(),
                f["message"].as_str().unwrap_or_default().to_owned(),
                f["line"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let repos = "AllowedRepositories/must-come-from-trusted-registry";
    let vap = "ValidatingAdmissionPolicyBinding/trusted-images-and-limits";
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found.iter().all(|(_, _, line)| *line == 4), "{found:#?}");
    assert_eq!(found.iter().filter(|(p, ..)| p == repos).count(), 2);
    assert_eq!(found.iter().filter(|(p, ..)| p == vap).count(), 2);
    assert!(found
        .iter()
        .any(|(_, m, _)| m.contains("docker.io/library/nginx:1.27 is not from allowed")));
}

#[test]
fn scan_evaluates_policies_in_its_input_and_reports_broken_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "template.yaml", TEMPLATE);
    write(
        dir.path(),
        "constraint.yaml",
        &CONSTRAINT.replace(
            "spec:\n  match:",
            "spec:\n  enforcementAction: warn\n  match:",
        ),
    );
    write(
        dir.path(),
        "bad-params.yaml",
        &CONSTRAINT
            .replace("must-have-owner", "bad-params")
            .replace("labels: [\"owner\", \"team\"]", "labels: \"owner\""),
    );
    write(
        dir.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    team: x\n",
    );
    let (code, out, err) = run(
        dir.path(),
        &["scan", ".", "--select", "POL001", "-f", "json"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let found = json_findings(&out);
    assert_eq!(found.len(), 2, "{out}");
    let violation = found
        .iter()
        .find(|f| f["file"] == "ns.yaml")
        .expect("the namespace's violation");
    assert_eq!(violation["policy"], "K8sRequiredLabels/must-have-owner");
    assert_eq!(violation["message"], "missing label owner");
    // `enforcementAction: warn` is a medium finding.
    assert_eq!(violation["severity"], "medium");
    let broken = found
        .iter()
        .find(|f| f["file"] == "bad-params.yaml")
        .expect("the broken constraint");
    assert_eq!(broken["policy"], "K8sRequiredLabels/bad-params");
    // At `parameters:`, the field that violates the schema.
    assert_eq!(broken["line"], 10, "{broken}");
    assert!(broken["message"]
        .as_str()
        .unwrap_or_default()
        .contains("spec.parameters.labels: must be of type array"));
}

#[test]
fn scan_without_policies_reports_no_policy_findings() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        dir.path(),
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    let (code, out, err) = run(
        dir.path(),
        &["scan", ".", "--select", "POL001", "-f", "json"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(json_findings(&out).is_empty(), "{out}");
}

#[test]
fn policy_findings_obey_the_ignore_annotation_and_configured_suppressions() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "template.yaml", TEMPLATE);
    write(dir.path(), "constraint.yaml", CONSTRAINT);
    let ns = |name: &str, annotations: &str| {
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n{annotations}")
    };
    let objects = [
        ns("reported", ""),
        ns(
            "annotated",
            "  annotations:\n    palisade.dev/ignore: POL001\n",
        ),
        ns(
            "by-slug",
            "  annotations:\n    palisade.dev/ignore: policy-violation\n",
        ),
        ns("configured", ""),
    ]
    .join("---\n");
    write(dir.path(), "ns.yaml", &objects);
    write(
        dir.path(),
        ".palisade.yaml",
        "suppressions:\n- rule: policy-violation\n  kind: Namespace\n  name: configured\n  reason: tenant namespace\n",
    );
    let (code, out, err) = run(
        dir.path(),
        &[
            "scan",
            "template.yaml",
            "constraint.yaml",
            "ns.yaml",
            "--select",
            "POL001",
            "-f",
            "json",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    let names: Vec<String> = json_findings(&out)
        .iter()
        .map(|f| f["object"]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    // Two violations (owner, team) of the one namespace nothing suppresses.
    assert_eq!(names, ["reported", "reported"], "{out}");
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_loop_under_policy_is_an_error_not_a_hang() {
    let dir = setup("");
    // `loop/again` is `loop` itself.
    std::fs::create_dir(dir.path().join("loop")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("loop/again")).unwrap();
    for args in [
        &["scan", "--no-config", "--policy", ".", "."][..],
        &["policy", "test", "."][..],
    ] {
        let (code, _, stderr) = run(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains("nested deeper than 16 directories"),
            "{stderr}"
        );
    }
}

// Audit annotations of a ValidatingAdmissionPolicy, under their case.

const VAP_POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
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

const VAP_BINDING: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replicas-binding
spec:
  policyName: replicas
  validationActions: [Deny]
"#;

const VAP_SUITE: &str = r#"kind: Suite
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

fn vap_setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "policy.yaml", VAP_POLICY);
    write(dir.path(), "binding.yaml", VAP_BINDING);
    write(dir.path(), "suite.yaml", VAP_SUITE);
    write(dir.path(), "four.yaml", &deployment("web", 4));
    write(dir.path(), "seven.yaml", &deployment("big", 7));
    dir
}

#[test]
fn audit_annotations_are_printed_under_their_case() {
    let dir = vap_setup();
    let (code, out, _) = run(dir.path(), &["policy", "test"]);
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
    let dir = vap_setup();
    let (_, out, _) = run(dir.path(), &["policy", "test", "-q"]);
    assert!(!out.contains("Deployment web"), "{out}");
    assert!(
        out.contains("     audit replicas/high-replica-count: Deployment big has 7 replicas"),
        "{out}"
    );
}
