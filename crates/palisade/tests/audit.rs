//! `palisade audit`: Falco rules files on audit logs, text and JSON alerts, `--fail-on`, bad
//! input reported with file:line while the other events are still evaluated, gzip, and
//! `--follow` across a log rotation.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

const RULES: &str = r#"
- required_engine_version: 15
- list: trusted_users
  items: [alice]
- macro: kcreate
  condition: ka.verb=create
- rule: Exec into pod
  desc: exec or attach
  condition: ka.target.subresource in (exec, attach) and not ka.user.name in (trusted_users)
  output: Exec (user=%ka.user.name pod=%ka.target.name command=%ka.uri.param[command])
  priority: NOTICE
  source: k8s_audit
  tags: [k8s, exec]
- rule: Privileged pod
  desc: privileged container created
  condition: kcreate and ka.target.resource=pods and ka.req.pod.containers.privileged intersects (true)
  output: Privileged (images=%ka.req.pod.containers.image ns=%ka.target.namespace)
  priority: WARNING
  source: k8s_audit
  tags: [k8s]
"#;

fn exec_event(user: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"1","stage":"ResponseStarted","stageTimestamp":"2024-05-01T10:00:00.123456Z","verb":"create","requestURI":"/api/v1/namespaces/d/pods/web/exec?command=sh","user":{{"username":"{user}"}},"objectRef":{{"resource":"pods","subresource":"exec","name":"web","namespace":"d"}}}}"#
    )
}

fn privileged_event() -> String {
    r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"2","stage":"ResponseComplete","stageTimestamp":"2024-05-01T10:00:01Z","verb":"create","user":{"username":"bob"},"objectRef":{"resource":"pods","namespace":"prod","name":"p","apiVersion":"v1"},"requestObject":{"kind":"Pod","spec":{"containers":[{"name":"a","image":"nginx:1.25","securityContext":{"privileged":true}}]}}}"#.to_owned()
}

fn setup(dir: &Path, log: &str) {
    std::fs::write(dir.join("rules.yaml"), RULES).unwrap();
    std::fs::write(dir.join("audit.log"), log).unwrap();
}

fn palisade(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .args(["audit", "--no-config"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn text_alerts_and_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &format!(
            "{}\n{}\n{}\n",
            exec_event("mallory"),
            exec_event("alice"),
            privileged_event()
        ),
    );
    let out = palisade(
        dir.path(),
        &["--no-builtin", "--rules", "rules.yaml", "audit.log"],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "10:00:00.123456000: Notice Exec (user=mallory pod=web command=sh)",
            "10:00:01.000000000: Warning Privileged (images=(nginx:1.25) ns=prod)",
        ]
    );
    let out = palisade(
        dir.path(),
        &[
            "--no-builtin",
            "--rules",
            "rules.yaml",
            "--fail-on",
            "warning",
            "audit.log",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = palisade(
        dir.path(),
        &[
            "--no-builtin",
            "--rules",
            "rules.yaml",
            "--fail-on",
            "error",
            "audit.log",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn json_alerts_in_falco_format_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), "");
    let mut child = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .args([
            "audit",
            "--no-config",
            "--no-builtin",
            "--rules",
            "rules.yaml",
            "-f",
            "json",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{}", exec_event("mallory")).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let alert: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(alert["rule"], "Exec into pod");
    assert_eq!(alert["priority"], "Notice");
    assert_eq!(alert["source"], "k8s_audit");
    assert_eq!(alert["time"], "2024-05-01T10:00:00.123456000Z");
    assert_eq!(alert["tags"], serde_json::json!(["k8s", "exec"]));
    assert_eq!(
        alert["output"],
        "10:00:00.123456000: Notice Exec (user=mallory pod=web command=sh)"
    );
    assert_eq!(alert["output_fields"]["ka.user.name"], "mallory");
    assert_eq!(alert["output_fields"]["ka.uri.param[command]"], "sh");
    assert!(alert["hostname"].is_string());
}

#[test]
fn bad_input_is_reported_and_the_rest_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &format!(
            "not json\n{{\"kind\": 0}}\n{}\n{}",
            privileged_event(),
            &exec_event("eve")[..30]
        ),
    );
    let out = palisade(
        dir.path(),
        &[
            "--no-builtin",
            "--rules",
            "rules.yaml",
            "--fail-on",
            "warning",
            "audit.log",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "input errors win over --fail-on"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("audit.log:1: not JSON"), "{stderr}");
    assert!(
        stderr.contains("audit.log:2: data not recognized as a k8s audit event"),
        "{stderr}"
    );
    assert!(stderr.contains("audit.log:4: truncated event"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("Warning Privileged"), "{stdout}");
    let out = palisade(
        dir.path(),
        &["--rules", "rules.yaml", "missing.log", "audit.log"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("missing.log: cannot read file"));
}

#[test]
fn rules_errors_name_the_rule_and_position() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), "");
    std::fs::write(
        dir.path().join("bad.yaml"),
        "- rule: Broken\n  desc: d\n  condition: ka.verb=create and ka.nope exists\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
    )
    .unwrap();
    let out = palisade(
        dir.path(),
        &["--rules", "rules.yaml", "--rules", "bad.yaml", "audit.log"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("bad.yaml:1: rule 'Broken': condition column 20: unknown field 'ka.nope'"),
        "{stderr}"
    );
}

#[test]
fn gzip_logs_are_read() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), "");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(gz, "{}", privileged_event()).unwrap();
    std::fs::write(dir.path().join("audit.log.gz"), gz.finish().unwrap()).unwrap();
    let out = palisade(
        dir.path(),
        &["--no-builtin", "--rules", "rules.yaml", "audit.log.gz"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("Warning Privileged"));
}

#[test]
fn follow_survives_rotation() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path(), &format!("{}\n", exec_event("first")));
    let mut child = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .args([
            "audit",
            "--no-config",
            "--no-builtin",
            "--rules",
            "rules.yaml",
            "--follow",
            "audit.log",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    assert!(next().contains("user=first"));
    // The log grows.
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("audit.log"))
        .unwrap();
    writeln!(log, "{}", exec_event("second")).unwrap();
    drop(log);
    assert!(next().contains("user=second"));
    // The log is rotated: renamed, and a new file takes its place.
    std::fs::rename(dir.path().join("audit.log"), dir.path().join("audit.log.1")).unwrap();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(
        dir.path().join("audit.log"),
        format!("{}\n", exec_event("third")),
    )
    .unwrap();
    assert!(next().contains("user=third"));
    assert!(started.elapsed() < Duration::from_secs(30));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn palisade_detections_run_by_default() {
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &format!("{}\n{}\n", exec_event("mallory"), privileged_event()),
    );
    let out = palisade(dir.path(), &["-f", "json", "audit.log"]);
    assert_eq!(out.status.code(), Some(0));
    let alerts: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exec = alerts
        .iter()
        .find(|a| a["rule"] == "EVT001")
        .expect("EVT001");
    assert_eq!(exec["priority"], "Warning");
    assert_eq!(exec["output_fields"]["ka.user.name"], "mallory");
    assert!(exec["output"]
        .as_str()
        .unwrap()
        .contains("EVT001 user mallory opened a exec session into pod d/web"));
    let pod = alerts
        .iter()
        .find(|a| a["rule"] == "POD001")
        .expect("POD001 on the created pod");
    assert_eq!(
        pod["output_fields"]["palisade.pointer"],
        "/requestObject/spec/containers/0/securityContext/privileged"
    );
    assert!(pod["output"].as_str().unwrap().contains("at audit.log:2"));
    // --select narrows palisade's rules; the Falco rules still run.
    let out = palisade(
        dir.path(),
        &["--select", "EVT001", "--rules", "rules.yaml", "audit.log"],
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rules: Vec<&str> = stdout.lines().collect();
    assert_eq!(rules.len(), 3, "{stdout}");
    assert!(rules[0].contains("EVT001"), "{stdout}");
    assert!(rules[1].contains("Exec (user=mallory"), "{stdout}");
    assert!(rules[2].contains("Warning Privileged"), "{stdout}");
}

#[test]
fn the_configuration_applies_to_event_and_object_rules_as_to_scan() {
    let dir = tempfile::tempdir().unwrap();
    setup(
        dir.path(),
        &format!("{}\n{}\n", exec_event("mallory"), privileged_event()),
    );
    let run = |config: &str| {
        std::fs::write(dir.path().join("palisade.yaml"), config).unwrap();
        let out = Command::new(cargo_bin("palisade"))
            .current_dir(dir.path())
            .args([
                "audit",
                "--config",
                "palisade.yaml",
                "-f",
                "json",
                "audit.log",
            ])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                let a: Value = serde_json::from_str(l).unwrap();
                (
                    a["rule"].as_str().unwrap().to_owned(),
                    a["priority"].as_str().unwrap().to_owned(),
                    a["output_fields"]["palisade.severity"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let find = |alerts: &[(String, String, String)], rule: &str| {
        alerts
            .iter()
            .find(|(r, ..)| r == rule)
            .map(|(_, p, s)| (p.clone(), s.clone()))
    };
    // Defaults: EVT001 is medium (Warning), POD001 critical.
    let alerts = run("severity: {}\n");
    assert_eq!(
        find(&alerts, "EVT001"),
        Some(("Warning".into(), "medium".into()))
    );
    assert_eq!(
        find(&alerts, "POD001"),
        Some(("Critical".into(), "critical".into()))
    );
    // Overrides by ID and by slug, on an event rule and on a per-object rule.
    let alerts = run("severity:\n  EVT001: critical\n  privileged-container: low\n");
    assert_eq!(
        find(&alerts, "EVT001"),
        Some(("Critical".into(), "critical".into()))
    );
    assert_eq!(
        find(&alerts, "POD001"),
        Some(("Notice".into(), "low".into()))
    );
    // Rules ignored in the configuration do not run; `select` narrows as for scan.
    let alerts = run("ignore: [EVT001, privileged-container]\n");
    assert_eq!(find(&alerts, "EVT001"), None, "{alerts:?}");
    assert_eq!(find(&alerts, "POD001"), None, "{alerts:?}");
    assert!(!alerts.is_empty(), "other rules still run: {alerts:?}");
    let alerts = run("select: [POD001]\n");
    assert!(
        alerts.iter().all(|(r, ..)| r == "POD001") && !alerts.is_empty(),
        "{alerts:?}"
    );
}
