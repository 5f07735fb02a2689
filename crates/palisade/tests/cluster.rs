//! `palisade cluster scan` against the test API server, through the real kube-rs client: the
//! same findings as `palisade scan` on the same objects as files, owner folding, partial
//! results and every output format.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use palisade_testserver::{TestServer, Throttle};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-testserver/fixtures")
}

fn server() -> TestServer {
    TestServer::builder()
        .fixture(&fixtures().join("ingress-nginx.yaml"))
        .unwrap()
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .controllers(2)
        .start()
}

fn palisade(dir: &Path, args: &[&str]) -> Output {
    Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .env_remove("KUBECONFIG")
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

/// `palisade cluster scan --kubeconfig <generated> --no-config <args>`.
fn cluster_scan(server: &TestServer, dir: &Path, args: &[&str]) -> Output {
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let kubeconfig = kubeconfig.display().to_string();
    let mut all = vec![
        "cluster",
        "scan",
        "--kubeconfig",
        kubeconfig.as_str(),
        "--no-config",
    ];
    all.extend_from_slice(args);
    palisade(dir, &all)
}

fn json_report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!(
            "not JSON ({err}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A finding apart from its location: rule, severity, message, object and field.
fn key(f: &Value) -> String {
    let o = &f["object"];
    format!(
        "{} {} {} {} {}/{} {} | {}",
        f["rule"],
        f["severity"],
        o["apiVersion"],
        o["kind"],
        o["namespace"].as_str().unwrap_or("-"),
        o["name"].as_str().unwrap(),
        f["pointer"].as_str().unwrap(),
        f["message"].as_str().unwrap()
    )
}

fn keys(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect()
}

/// The server's objects as a manifest file, one JSON document each, in the order a cluster
/// scan gives the inventory rules: owners first, then by apiVersion, kind, namespace and name.
fn as_files(server: &TestServer, dir: &Path) -> PathBuf {
    let path = dir.join("objects.yaml");
    let mut objects = server.objects();
    objects.sort_by_key(|o| {
        let field = |p: &str| o.pointer(p).and_then(Value::as_str).map(str::to_owned);
        (
            o.pointer("/metadata/ownerReferences").is_some(),
            field("/apiVersion"),
            field("/kind"),
            field("/metadata/namespace"),
            field("/metadata/name"),
        )
    });
    let text: Vec<String> = objects.iter().map(Value::to_string).collect();
    std::fs::write(&path, text.join("\n---\n")).unwrap();
    path
}

#[test]
fn findings_equal_those_of_scan_on_the_same_objects_as_files() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let files = as_files(&server, dir.path());
    let from_files = palisade(
        dir.path(),
        &["scan", "--no-config", "-f", "json", files.to_str().unwrap()],
    );
    let from_files = json_report(&from_files);
    let live = cluster_scan(
        &server,
        dir.path(),
        &[
            "-f",
            "json",
            "--no-owner-folding",
            "--secret-data",
            "--chunk-size",
            "3",
        ],
    );
    assert_eq!(
        live.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live = json_report(&live);
    assert!(
        live["errors"].as_array().unwrap().is_empty(),
        "{}",
        live["errors"]
    );
    let expected = keys(&from_files);
    let found = keys(&live);
    assert!(expected.len() > 25, "{expected:#?}");
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the cluster scan: {missing:#?}\nonly in the cluster scan: {extra:#?}"
    );
    // Only the kinds that rules read are listed.
    assert!(live["summary"]["objects"].as_u64() <= from_files["summary"]["objects"].as_u64());
    // Located by object and field, not by line.
    for f in live["findings"].as_array().unwrap() {
        assert_eq!(f["line"], 0);
        assert!(f["object"]["uid"].is_string(), "{f}");
        let file = f["file"].as_str().unwrap();
        assert!(file.starts_with(&server.url()), "{file}");
        assert!(file.ends_with(&format!("/{}", f["object"]["name"].as_str().unwrap())));
    }
}

#[test]
fn owned_objects_are_reported_at_their_owner_unless_they_differ() {
    let server = server();
    // One pod of the controller's ReplicaSet runs privileged: its template does not say so.
    let mut pod = server
        .objects()
        .into_iter()
        .find(|o| {
            o["kind"] == "Pod"
                && o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("ingress-nginx-controller-")
        })
        .unwrap();
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    let changed = pod["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(server.apply(pod));
    let dir = tempfile::tempdir().unwrap();
    let folded = json_report(&cluster_scan(&server, dir.path(), &["-f", "json"]));
    let unfolded = json_report(&cluster_scan(
        &server,
        dir.path(),
        &["-f", "json", "--no-owner-folding"],
    ));
    let on = |report: &Value, kind: &str| -> Vec<Value> {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["object"]["kind"] == kind)
            .cloned()
            .collect()
    };
    // Without folding, every pod and ReplicaSet repeats its owner's findings.
    assert!(on(&unfolded, "Pod").len() > 10);
    assert!(!on(&unfolded, "ReplicaSet").is_empty());
    assert!(
        on(&folded, "ReplicaSet").is_empty(),
        "{:#?}",
        on(&folded, "ReplicaSet")
    );
    let pods = on(&folded, "Pod");
    // What stays on pods: the changed pod's privileged container, and the pod no controller owns.
    assert!(!pods.is_empty());
    for f in &pods {
        let name = f["object"]["name"].as_str().unwrap();
        assert!(name == changed || name == "debug", "{f:#}");
        if name == changed {
            assert!(
                f["pointer"].as_str().unwrap().contains("privileged"),
                "only what differs from the template: {f:#}"
            );
        }
    }
    assert!(pods.iter().any(|f| f["object"]["name"] == changed.as_str()));
    // The owners keep their findings.
    assert_eq!(on(&folded, "Deployment"), on(&unfolded, "Deployment"));
    assert_eq!(on(&folded, "Job"), on(&unfolded, "Job"));
}

#[test]
fn partial_results_are_error_entries_and_exit_2() {
    let server = server();
    server.faults().forbidden.push("clusterroles".to_owned());
    server.faults().throttled.push(Throttle {
        resource: "pods".to_owned(),
        count: 1,
        retry_after_secs: 1,
    });
    let dir = tempfile::tempdir().unwrap();
    let output = cluster_scan(&server, dir.path(), &["-f", "json"]);
    assert_eq!(output.status.code(), Some(2));
    let report = json_report(&output);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("clusterroles.rbac.authorization.k8s.io"),
        "{message}"
    );
    assert!(message.contains("403"), "{message}");
    assert!(errors[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("/apis/rbac.authorization.k8s.io/v1/clusterroles"));
    // The rest is checked: the throttled pods were listed after the server's Retry-After.
    let kinds: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("Pod") && kinds.contains("Deployment"),
        "{kinds:?}"
    );
    assert!(!kinds.contains("ClusterRole"));

    // The text report says it too.
    let text = cluster_scan(&server, dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("error: https://"), "{stdout}");
}

#[test]
fn one_namespace_reports_only_its_objects() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let report = json_report(&cluster_scan(
        &server,
        dir.path(),
        &["-f", "json", "-n", "shop"],
    ));
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let o = &f["object"];
        assert!(
            o["namespace"] == "shop" || (o["kind"] == "Namespace" && o["name"] == "shop"),
            "{f:#}"
        );
    }
    assert!(findings.iter().any(|f| f["object"]["name"] == "debug"));
}

#[test]
fn every_output_format_names_the_object_and_the_field() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let text = cluster_scan(&server, dir.path(), &["--select", "host-namespaces"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        text.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(
        stdout.contains("--> v1 Pod shop/debug (uid 00000000-0000-4000-8000-"),
        "{stdout}"
    );
    assert!(stdout.contains(" at /spec/hostNetwork"), "{stdout}");
    // No code frame: there are no source lines.
    assert!(!stdout.contains(" | "), "{stdout}");

    let sarif = cluster_scan(
        &server,
        dir.path(),
        &["-f", "sarif", "--select", "host-namespaces"],
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    let location = &result["locations"][0];
    assert!(
        location["physicalLocation"]["region"].is_null(),
        "{location:#}"
    );
    assert!(location["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .ends_with("/api/v1/namespaces/shop/pods/debug"));
    assert_eq!(
        location["logicalLocations"][0]["fullyQualifiedName"],
        "shop/Pod/debug/spec/hostNetwork"
    );

    let github = cluster_scan(
        &server,
        dir.path(),
        &["-f", "github", "--select", "host-namespaces"],
    );
    let stdout = String::from_utf8_lossy(&github.stdout);
    assert!(stdout.starts_with("::error title="), "{stdout}");
    assert!(!stdout.contains("line=0"), "{stdout}");

    let junit = cluster_scan(
        &server,
        dir.path(),
        &["-f", "junit", "--select", "host-namespaces"],
    );
    let stdout = String::from_utf8_lossy(&junit.stdout);
    assert!(stdout.contains("<testsuites"), "{stdout}");
    assert!(stdout.contains("Pod shop/debug"), "{stdout}");
}

#[test]
fn secret_values_are_neither_read_nor_printed_by_default() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "sarif"] {
        let output = cluster_scan(&server, dir.path(), &["-f", format]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!stdout.contains("Sup3r-S3cret"), "{format}: {stdout}");
    }
    let secrets = |server: &TestServer| {
        server
            .requests()
            .into_iter()
            .filter(|r| r.path == "/api/v1/secrets")
            .count()
    };
    assert_eq!(
        secrets(&server),
        0,
        "without --secret-data, no Secret is requested"
    );
    let output = cluster_scan(&server, dir.path(), &["-f", "json", "--secret-data"]);
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Sup3r-S3cret"));
    assert_eq!(secrets(&server), 1);
    // The secret rules ran on the listed Secrets.
    let report = json_report(&output);
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["rule"] == "SEC003"));
    assert_eq!(report["not_run"], json!([]));
}

#[test]
fn with_the_documented_role_secrets_are_rules_not_run_and_with_secret_data_an_error() {
    let server = server();
    // The documented read-only role grants nothing on Secrets.
    server.faults().forbidden.push("secrets".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let text = cluster_scan(&server, dir.path(), &["--fail-on", "critical"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    let lines: Vec<&str> = stdout.lines().filter(|l| l.contains("not run")).collect();
    assert_eq!(
        lines,
        ["warning: not run: SEC003, SEC004 (Secrets are read only with --secret-data, which needs the role in deploy/scanner/secrets.yaml)"],
        "{stdout}"
    );
    assert!(!stdout.contains("error:"), "{stdout}");
    assert_ne!(text.status.code(), Some(2), "{stdout}");
    let json = cluster_scan(&server, dir.path(), &["-f", "json"]);
    assert_ne!(json.status.code(), Some(2));
    let report = json_report(&json);
    let not_run: Vec<&str> = report["not_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["rule"].as_str().unwrap())
        .collect();
    assert_eq!(not_run, ["SEC003", "SEC004"]);
    assert!(report["not_run"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("--secret-data"));
    assert_eq!(report["errors"], json!([]));
    // Asking for Secrets without the access is a partial result.
    let asked = cluster_scan(&server, dir.path(), &["-f", "json", "--secret-data"]);
    assert_eq!(asked.status.code(), Some(2));
    let report = json_report(&asked);
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("403"));
}

#[test]
fn an_unavailable_api_group_is_a_warning_and_the_rest_is_checked() {
    let server = server();
    server.faults().unavailable_groups.push("batch".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let output = cluster_scan(&server, dir.path(), &["-f", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_report(&output);
    let warnings = report["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].as_str().unwrap().contains("batch/v1"));
    let kinds: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["kind"].as_str().unwrap())
        .collect();
    assert!(
        !kinds.contains("Job") && kinds.contains("Deployment"),
        "{kinds:?}"
    );
}

#[test]
fn the_text_summary_counts_resource_types_and_names_no_fix() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let report = json_report(&cluster_scan(&server, dir.path(), &["-f", "json"]));
    let types = report["summary"]["files"].as_u64().unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert!(types > 1);
    // Some findings have fixes (in JSON, for tools that use them).
    assert!(findings.iter().any(|f| f.get("fix").is_some()));
    let text = cluster_scan(&server, dir.path(), &[]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    let summary = stdout.lines().rev().find(|l| !l.is_empty()).unwrap();
    let expected_tail = format!(
        " in {} objects from {types} resource types",
        report["summary"]["objects"]
    );
    assert!(
        summary.starts_with(&format!("{} findings (", findings.len()))
            && summary.ends_with(&expected_tail),
        "{summary}"
    );
    assert!(!summary.contains("file"), "{summary}");
    for hint in ["palisade fix", "safe fix", "unsafe-fixes"] {
        assert!(!stdout.contains(hint), "{hint}: {stdout}");
    }
}
