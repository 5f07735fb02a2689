//! `palisade scan --write-baseline` and `--baseline`: a baseline hides the findings it
//! recorded, whatever moves lines or reformats the file, and reports a changed offending value
//! and a new problem; it never holds a credential.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

const MANIFEST: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: api
        image: registry.example.com/api:latest
        securityContext:
          privileged: true
        env:
        - name: DB_PASSWORD
          value: s3cretValue
";

/// The same object: reindented, flow style, keys in another order, comments and blank lines.
const REFORMATTED: &str = "\
# the API server
kind: Deployment

apiVersion: apps/v1
metadata: {namespace: shop, name: api}
spec:
    template:
        spec:
            containers:
                # the only container
                -   env: [{name: DB_PASSWORD, value: s3cretValue}]

                    securityContext:
                        privileged: true   # needed for now
                    image: \"registry.example.com/api:latest\"
                    name: api
";

fn palisade(dir: &Path) -> Command {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A directory with `m.yaml` and its baseline, `baseline.json`.
fn baselined() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.yaml"), MANIFEST).unwrap();
    let (code, out, err) =
        run(palisade(dir.path()).args(["scan", "m.yaml", "--write-baseline", "baseline.json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("wrote the baseline baseline.json"), "{err}");
    assert!(out.contains("0 findings in 1 object from 1 file;"), "{out}");
    dir
}

fn json_scan(dir: &Path, file: &str, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = run(palisade(dir).args(["scan", file, "-f", "json"]).args(args));
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
    )
}

fn rules(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

/// How many findings the manifest has without a baseline.
fn all_findings(dir: &Path) -> u64 {
    let (code, report) = json_scan(dir, "m.yaml", &[]);
    assert_eq!(code, 1);
    let count = report["summary"]["findings"].as_u64().unwrap();
    assert!(count >= 4, "{report}");
    assert!(report["summary"].get("baseline").is_none(), "{report}");
    count
}

#[test]
fn the_same_file_reports_nothing_and_counts_what_was_hidden() {
    let dir = baselined();
    let total = all_findings(dir.path());
    let (code, out, err) =
        run(palisade(dir.path()).args(["scan", "m.yaml", "--baseline", "baseline.json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "0 findings in 1 object from 1 file; {total} findings hidden by the baseline, \
             0 baseline findings no longer found"
        )),
        "{out}"
    );
}

#[test]
fn the_json_summary_counts_hidden_and_gone_findings() {
    let dir = baselined();
    let total = all_findings(dir.path());
    let (code, report) = json_scan(dir.path(), "m.yaml", &["--baseline", "baseline.json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["findings"], serde_json::json!([]));
    assert_eq!(report["summary"]["findings"], 0);
    assert_eq!(
        report["summary"]["baseline"],
        serde_json::json!({"hidden": total, "gone": 0})
    );
}

#[test]
fn moved_lines_and_reformatting_keep_the_findings_hidden() {
    let dir = baselined();
    std::fs::write(dir.path().join("m.yaml"), REFORMATTED).unwrap();
    let (code, report) = json_scan(dir.path(), "m.yaml", &["--baseline", "baseline.json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(rules(&report), Vec::<&str>::new(), "{report}");
    assert_eq!(report["summary"]["baseline"]["gone"], 0);
}

#[test]
fn a_changed_offending_value_is_a_new_finding() {
    let dir = baselined();
    let total = all_findings(dir.path());
    let changed = MANIFEST.replace("api:latest", "worker:latest");
    std::fs::write(dir.path().join("m.yaml"), changed).unwrap();
    let (code, report) = json_scan(dir.path(), "m.yaml", &["--baseline", "baseline.json"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(rules(&report), ["IMG001"], "{report}");
    assert!(report["findings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("worker:latest"));
    // The finding about `api:latest` is gone, the one about `worker:latest` is new.
    assert_eq!(
        report["summary"]["baseline"],
        serde_json::json!({"hidden": total - 1, "gone": 1})
    );
}

#[test]
fn a_fixed_problem_is_counted_as_gone() {
    let dir = baselined();
    let total = all_findings(dir.path());
    let fixed = MANIFEST.replace("privileged: true", "privileged: false");
    std::fs::write(dir.path().join("m.yaml"), fixed).unwrap();
    let (code, out, err) =
        run(palisade(dir.path()).args(["scan", "m.yaml", "--baseline", "baseline.json"]));
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!(
            "{} findings hidden by the baseline, 1 baseline finding no longer found",
            total - 1
        )),
        "{out}"
    );
}

#[test]
fn a_second_copy_of_a_recorded_problem_is_new() {
    let dir = baselined();
    let once = all_findings(dir.path());
    let twice = format!("{MANIFEST}---\n{MANIFEST}");
    std::fs::write(dir.path().join("m.yaml"), twice).unwrap();
    let (_, unfiltered) = json_scan(dir.path(), "m.yaml", &[]);
    let (code, report) = json_scan(dir.path(), "m.yaml", &["--baseline", "baseline.json"]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        report["summary"]["baseline"],
        serde_json::json!({"hidden": once, "gone": 0})
    );
    // Each recorded finding hides one of its copies: the first one, in document 0.
    let reported = report["findings"].as_array().unwrap();
    assert_eq!(
        reported.len() as u64 + once,
        unfiltered["summary"]["findings"].as_u64().unwrap()
    );
    assert!(reported.iter().any(|f| f["rule"] == "POD001"), "{report}");
    assert!(reported.iter().all(|f| f["document"] == 1), "{report}");
}

#[test]
fn the_baseline_holds_no_credential_and_is_sorted() {
    let dir = baselined();
    let text = std::fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    let baseline: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(baseline["version"], 1);
    assert_eq!(baseline["tool"], "palisade");
    let entries = baseline["findings"].as_array().unwrap();
    let sec001 = entries
        .iter()
        .find(|e| e["rule"] == "SEC001")
        .expect("the credential finding is recorded");
    assert_eq!(sec001["file"], "m.yaml");
    assert_eq!(sec001["object"], "Deployment shop/api");
    assert_eq!(sec001["line"], 16);
    for entry in entries {
        let fields: Vec<&String> = entry.as_object().unwrap().keys().collect();
        assert_eq!(fields, ["fingerprint", "rule", "file", "object", "line"]);
        let fingerprint = entry["fingerprint"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 16);
        assert!(fingerprint.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    let keys: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["rule"].as_str().unwrap(),
                e["fingerprint"].as_str().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // `--show-secrets` shows them in the report, never in the baseline.
    let (_, _, err) = run(palisade(dir.path()).args([
        "scan",
        "m.yaml",
        "--show-secrets",
        "--write-baseline",
        "again.json",
    ]));
    let again = std::fs::read_to_string(dir.path().join("again.json")).unwrap();
    assert_eq!(again, text, "{err}");
}

#[test]
fn a_missing_or_invalid_baseline_is_an_error_naming_it() {
    let dir = baselined();
    let (code, out, err) =
        run(palisade(dir.path()).args(["scan", "m.yaml", "--baseline", "missing.json"]));
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("cannot read the baseline missing.json"),
        "{err}"
    );
    for invalid in [
        "not json",
        r#"{"version": 2, "tool": "palisade", "findings": []}"#,
        r#"{"version": 1, "tool": "palisade", "findings": [{"fingerprint": "xyz", "rule": "POD001", "file": "m.yaml", "object": "Pod p", "line": 1}]}"#,
    ] {
        std::fs::write(dir.path().join("bad.json"), invalid).unwrap();
        let (code, _, err) =
            run(palisade(dir.path()).args(["scan", "m.yaml", "--baseline", "bad.json"]));
        assert_eq!(code, 2, "{invalid}");
        assert!(err.contains("bad.json is not a palisade baseline"), "{err}");
    }
}

#[test]
fn the_two_baseline_options_cannot_be_combined() {
    let dir = baselined();
    let (code, _, err) = run(palisade(dir.path()).args([
        "scan",
        "m.yaml",
        "--baseline",
        "baseline.json",
        "--write-baseline",
        "other.json",
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(!dir.path().join("other.json").exists());
}

#[test]
fn writing_a_baseline_over_input_errors_exits_2() {
    let dir = baselined();
    std::fs::write(dir.path().join("broken.yaml"), "kind: [unclosed\n").unwrap();
    let (code, out, err) = run(palisade(dir.path()).args([
        "scan",
        "m.yaml",
        "broken.yaml",
        "--write-baseline",
        "with-errors.json",
    ]));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("broken.yaml"), "{out}");
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("with-errors.json")).unwrap(),
    )
    .unwrap();
    assert!(!written["findings"].as_array().unwrap().is_empty());
}
