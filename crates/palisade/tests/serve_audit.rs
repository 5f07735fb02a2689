//! `palisade serve --audit-alerts FILE --audit-queue N`: the alerts on the audit events posted to
//! `/audit` are appended to the file as Falco JSON lines, through the real server process over
//! TLS on loopback.
#![cfg(unix)]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod serve_process;
use serve_process::Server;

/// Starts the server with `/audit` open to any caller.
fn start(extra: &[&str]) -> Server {
    serve_process::start(
        &[&["--audit-unauthenticated"], extra].concat(),
        Stdio::null(),
    )
}

fn event_list() -> String {
    let exec = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "1",
        "stage": "ResponseStarted", "verb": "create", "user": {"username": "mallory"},
        "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "shop", "name": "web"},
        "responseStatus": {"code": 101}, "stageTimestamp": "2024-05-01T10:00:00Z"});
    let pod = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "2",
        "stage": "ResponseComplete", "verb": "create", "user": {"username": "mallory"},
        "objectRef": {"resource": "pods", "namespace": "shop", "name": "p", "apiVersion": "v1"},
        "responseStatus": {"code": 201}, "stageTimestamp": "2024-05-01T10:00:01Z",
        "requestObject": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
                "securityContext": {"privileged": true}}]}}});
    json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [exec, pod]}).to_string()
}

/// The alerts in `path` once at least `n` lines are there.
fn alerts(path: &std::path::Path, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() >= n {
            return lines
                .iter()
                .map(|l| {
                    let alert: Value = serde_json::from_str(l).expect("each line is JSON");
                    assert_eq!(alert["source"], "k8s_audit", "{l}");
                    alert
                })
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "{} alert lines after 30 s: {text}",
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn audit_alerts_are_appended_to_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.jsonl");
    // Appended: what the file holds already stays.
    std::fs::write(&path, "{\"source\":\"k8s_audit\",\"rule\":\"earlier\"}\n").unwrap();
    let server = start(&[
        "--no-config",
        "--audit-alerts",
        path.to_str().unwrap(),
        "--audit-queue",
        "4",
    ]);
    assert_eq!(
        server
            .request("POST", "/audit", &event_list())
            .unwrap()
            .status,
        200
    );
    let rules: Vec<_> = alerts(&path, 3)
        .iter()
        .map(|a| a["rule"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(rules[0], "earlier");
    assert!(rules.iter().any(|r| r == "EVT001"), "{rules:?}");
    assert!(rules.iter().any(|r| r == "POD001"), "{rules:?}");
}

#[test]
fn the_configured_severities_apply_to_the_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.jsonl");
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "severity:\n  EVT001: critical\n  POD001: low\n").unwrap();
    let server = start(&[
        "--config",
        config.to_str().unwrap(),
        "--audit-alerts",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        server
            .request("POST", "/audit", &event_list())
            .unwrap()
            .status,
        200
    );
    let alerts = alerts(&path, 2);
    let priority = |rule: &str| {
        let alert = alerts.iter().find(|a| a["rule"] == rule);
        alert.map(|a| a["priority"].as_str().unwrap().to_owned())
    };
    // By default EVT001 alerts at Warning and POD001 at Critical.
    assert_eq!(
        priority("EVT001").as_deref(),
        Some("Critical"),
        "{alerts:?}"
    );
    assert_eq!(priority("POD001").as_deref(), Some("Notice"), "{alerts:?}");
}

#[test]
fn an_alerts_file_that_cannot_be_opened_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("alerts.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--self-signed", "127.0.0.1", "--no-config"])
        .args([
            "--addr",
            "127.0.0.1:0",
            "--audit-alerts",
            path.to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--audit-alerts: cannot open"), "{stderr}");
}
