//! A file too large to be held whole is read a batch of chunks at a time: the report is the
//! one a pipe gives, whose text is read whole.

use std::path::Path;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use assert_cmd::Command;

/// About 9.6 MB, over the size from which files are read a batch at a time (8 MiB): 600
/// documents with a long comment each, whose findings, errors and inventory findings all
/// depend on the document numbers and lines counted across batches.
fn large_stream(last: &str) -> String {
    let comment = format!("# {}\n", "x".repeat(78)).repeat(200);
    let mut text = String::from("\u{feff}# a stream\n");
    for i in 0..600 {
        text.push_str("---\n");
        text.push_str(&comment);
        match i % 5 {
            0 => text.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\n  namespace: ns{}\nspec:\n  \
                 hostPID: true\n  containers:\n  - name: app\n    image: nginx\n",
                i % 7
            )),
            1 => text.push_str(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken{i}\nspec: [a, b\n  c: d\n"
            )),
            2 => text.push_str(&format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  \
                 name: b{i}\n  namespace: ns{}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  \
                 kind: Role\n  name: missing{i}\nsubjects:\n- kind: ServiceAccount\n  name: default\n",
                i % 7
            )),
            3 => text.push_str("just: a map\n"),
            _ => text.push_str(&format!(
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  \
                 metadata: {{name: s{i}, namespace: ns{}}}\n  spec:\n    type: NodePort\n",
                i % 7
            )),
        }
    }
    text.push_str(last);
    text
}

/// A ValidatingAdmissionPolicy, with its binding, that denies pods sharing the host's
/// process table.
const NO_HOST_PID: &str = r#"---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-host-pid}
spec:
  matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["pods"]
  validations:
  - expression: "!has(object.spec.hostPID) || !object.spec.hostPID"
    message: pods must not share the host's process table
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-host-pid}
spec:
  policyName: no-host-pid
  validationActions: [Deny]
"#;

/// The JSON report of `palisade scan` on `big.yaml`, given as a file or (`pipe`) on standard
/// input, with the name the report gives it.
fn scan(dir: &Path, pipe: bool) -> (i32, String) {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.current_dir(dir)
        .timeout(Duration::from_secs(300))
        .args(["scan", "--no-config", "-f", "json"]);
    if pipe {
        cmd.arg("-")
            .write_stdin(std::fs::read(dir.join("big.yaml")).unwrap());
    } else {
        cmd.arg("big.yaml");
    }
    let out = cmd.output().unwrap();
    let report = String::from_utf8(out.stdout).unwrap();
    let named = if pipe {
        report.replace("\"file\": \"-\"", "\"file\": \"big.yaml\"")
    } else {
        report
    };
    (out.status.code().unwrap_or(-1), named)
}

/// Asserts that two reports are the same, showing the first line that differs.
fn same(report: &str, expected: &str) {
    let differs = report
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b);
    if let Some(at) = differs {
        let line = |text: &str| text.lines().nth(at).unwrap_or_default().to_owned();
        panic!(
            "line {}: {} against {}",
            at + 1,
            line(report),
            line(expected)
        );
    }
    assert_eq!(report.len(), expected.len());
}

fn same_report_as_a_pipe(last: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let text = large_stream(last);
    assert!(text.len() > 9_000_000, "{}", text.len());
    std::fs::write(dir.path().join("big.yaml"), text).unwrap();
    // Input errors make the exit code 2.
    let (code, report) = scan(dir.path(), false);
    let (pipe_code, expected) = scan(dir.path(), true);
    assert_eq!((code, pipe_code), (2, 2));
    same(&report, &expected);
    serde_json::from_str(&report).unwrap()
}

#[test]
fn a_large_file_gets_the_report_of_its_text_read_whole() {
    let report = same_report_as_a_pipe(&format!(
        "{NO_HOST_PID}---\n%YAML 1.1\n---\napiVersion: v1\nkind: ConfigMap\n"
    ));
    let findings = report["findings"].as_array().unwrap();
    let at = |rule: &str| {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| f["line"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    // Every pod, the last one past the first batch, at the line of its container.
    let pods = at("POD002");
    assert_eq!(pods.len(), 120, "{:?}", &pods[..pods.len().min(10)]);
    let text = large_stream("");
    let name = text.find("  name: p595\n").unwrap();
    let line = text[..name].matches('\n').count() as u64 + 1;
    assert_eq!(pods.last(), Some(&(line + 5)));
    // Bindings and Services in lists each once; one finding per namespace from the
    // NetworkPolicy model over all of them.
    assert_eq!(at("RBAC013").len(), 120);
    assert_eq!(at("SVC002").len(), 120);
    assert_eq!(at("NET001").len(), 7);
    // The policy at the end of the file, found without reading the file whole, applies to
    // every pod before it.
    assert_eq!(at("POL001").len(), 120);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 120 + 1, "{errors:?}");
    assert_eq!(report["summary"]["skipped"], 120);
}

#[test]
fn a_large_file_with_a_byte_that_is_not_utf8_is_refused_at_that_byte() {
    let report = same_report_as_a_pipe("# \u{e9}\n");
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = large_stream("# \u{e9}\n").into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = 0xff;
    std::fs::write(dir.path().join("big.yaml"), &bytes).unwrap();
    let (code, refused) = scan(dir.path(), false);
    let (pipe_code, expected) = scan(dir.path(), true);
    assert_eq!((code, pipe_code), (2, 2));
    same(&refused, &expected);
    let refused: serde_json::Value = serde_json::from_str(&refused).unwrap();
    assert_eq!(refused["findings"], serde_json::json!([]));
    assert_eq!(refused["errors"][0]["kind"], "encoding", "{refused}");
    assert!(report["findings"].as_array().unwrap().len() > 120);
}

#[test]
fn a_large_text_report_is_written_to_a_file_as_it_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.yaml"), large_stream("")).unwrap();
    let text = |args: &[&str]| {
        let out = Command::new(cargo_bin("palisade"))
            .current_dir(dir.path())
            .timeout(Duration::from_secs(300))
            .args(["scan", "--no-config", "big.yaml"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8(out.stdout).unwrap()
    };
    let printed = text(&[]);
    assert!(text(&["-o", "report.txt"]).is_empty());
    let written = std::fs::read_to_string(dir.path().join("report.txt")).unwrap();
    // Written a piece at a time, with its colours stripped, and the code frames of lines read
    // again from a file too large to be held whole.
    assert!(written.len() > 256 * 1024, "{}", written.len());
    assert!(!written.contains('\u{1b}'));
    same(&written, &printed);
    assert_eq!(written.matches(" |   hostPID: true\n").count(), 120);
}
