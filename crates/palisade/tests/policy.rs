//! End-to-end tests of `palisade policy test`: gator suites, pass/fail per case, exit codes.

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
