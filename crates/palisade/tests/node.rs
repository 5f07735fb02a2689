//! End-to-end tests of `palisade node`: the node folders of `palisade-node`'s tests (modes set
//! here, since git does not keep them), every output format, the file:line of flags set or
//! missing, kube-bench's per-section counts in JSON, the per-object rules on the files the API
//! server names, keys never printed, and exit codes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn nodes() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../palisade-node/tests/nodes")
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of a test node with its modes, owned by `root` (the test's own user) in its
/// `/etc/passwd`.
fn node(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy(&nodes().join(name), root);
    let uid = std::fs::metadata(root).unwrap().uid();
    let modes = std::fs::read_to_string(root.join("modes.txt")).unwrap();
    for line in modes.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        let mode = u32::from_str_radix(fields[1], 8).unwrap();
        std::fs::set_permissions(root.join(fields[0]), std::fs::Permissions::from_mode(mode))
            .unwrap();
        if fields.get(2) == Some(&"etcd") {
            std::os::unix::fs::chown(root.join(fields[0]), Some(64_990), Some(64_990))
                .expect("the node tests run as root, to give files to etcd");
        }
    }
    std::fs::write(
        root.join("etc/passwd"),
        format!("root:x:{uid}:{uid}::/root:/bin/sh\netcd:x:64990:64990::/:/sbin/nologin\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        format!("root:x:{uid}:\netcd:x:64990:\n"),
    )
    .unwrap();
    dir
}

fn run(root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cargo_bin("palisade"))
        .env("NO_COLOR", "1")
        .arg("node")
        .arg("--root")
        .arg(root)
        .args(["--no-config", "--no-processes"])
        .args(args)
        .output()
        .expect("palisade runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(root: &Path) -> (i32, Value) {
    let (code, stdout, stderr) = run(root, &["--format", "json"]);
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (code, value)
}

/// The findings of a rule: (file relative to the root, line).
fn findings_of(report: &Value, root: &Path, rule: &str) -> Vec<(String, u64)> {
    let prefix = format!("{}/", root.display());
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            (
                file.strip_prefix(&prefix).unwrap_or(file).to_owned(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn misconfigured_node_points_at_the_flags() {
    if !palisade_testdata::can_give_files_away("misconfigured_node_points_at_the_flags") {
        return;
    }
    let dir = node("misconfigured");
    let root = dir.path();
    let (code, report) = json(root);
    assert_eq!(code, 1);
    let api = "etc/kubernetes/manifests/kube-apiserver.yaml";
    // A flag set: its line; a flag given twice: the last one, which the API server uses.
    assert_eq!(findings_of(&report, root, "API001"), [(api.to_owned(), 18)]);
    assert_eq!(findings_of(&report, root, "API006"), [(api.to_owned(), 20)]);
    assert_eq!(findings_of(&report, root, "API015"), [(api.to_owned(), 30)]);
    // A flag missing: the `command` it belongs in.
    assert_eq!(findings_of(&report, root, "API016"), [(api.to_owned(), 13)]);
    // The kubelet: a flag in kubeadm's environment file overrides the configuration file.
    assert_eq!(
        findings_of(&report, root, "KLT001"),
        [("var/lib/kubelet/kubeadm-flags.env".to_owned(), 1)]
    );
    assert_eq!(
        findings_of(&report, root, "KLT004"),
        [("var/lib/kubelet/config.yaml".to_owned(), 48)]
    );
    // World-readable keys: one finding per key, about the file as a whole.
    assert_eq!(findings_of(&report, root, "CPF021").len(), 11);
    // kube-bench's totals per section.
    let sections = &report["cis"]["sections"];
    assert_eq!(sections["master"]["fail"], 32);
    assert_eq!(sections["etcd"]["fail"], 4);
    assert_eq!(sections["node"]["fail"], 7);
    assert_eq!(report["cis"]["benchmark"], "cis-1.12");
    let checks = report["cis"]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 97);
    let total: u64 = ["pass", "fail", "warn", "info"]
        .iter()
        .map(|k| report["cis"]["totals"][k].as_u64().unwrap())
        .sum();
    assert_eq!(total, 97);
}

#[test]
fn hardened_node_runs_the_rules_of_the_files_the_api_server_names() {
    if !palisade_testdata::can_give_files_away(
        "hardened_node_runs_the_rules_of_the_files_the_api_server_names",
    ) {
        return;
    }
    let dir = node("hardened");
    let root = dir.path();
    // An audit policy without a catch-all rule, and a key too short for secretbox.
    let policy = root.join("etc/kubernetes/audit/policy.yaml");
    let text = std::fs::read_to_string(&policy).unwrap();
    let without_catch_all = text.trim_end().strip_suffix("- level: Metadata").unwrap();
    std::fs::write(&policy, without_catch_all).unwrap();
    let key = "c2hvcnQta2V5LW9mLTE3Yg==";
    let encryption = root.join("etc/kubernetes/enc/encryption.yaml");
    let text = std::fs::read_to_string(&encryption).unwrap();
    let original = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret: "))
        .unwrap()
        .to_owned();
    std::fs::write(&encryption, text.replace(&original, key)).unwrap();
    let (code, report) = json(root);
    assert_eq!(code, 1);
    assert_eq!(report["cis"]["sections"]["master"]["fail"], 0);
    assert_eq!(
        findings_of(&report, root, "AUD002"),
        [("etc/kubernetes/audit/policy.yaml".to_owned(), 5)]
    );
    assert_eq!(
        findings_of(&report, root, "ENC003"),
        [("etc/kubernetes/enc/encryption.yaml".to_owned(), 11)]
    );
    // The key is never printed, in any format.
    for format in ["text", "json", "sarif", "junit", "github"] {
        let (_, stdout, stderr) = run(root, &["--format", format]);
        assert!(!stdout.contains(key) && !stderr.contains(key), "{format}");
        assert!(stdout.contains("ENC003"), "{format}: {stdout}");
    }
    let (_, shown, _) = run(root, &["--show-secrets"]);
    assert!(shown.contains(key));
}

#[test]
fn every_format_renders_a_node() {
    if !palisade_testdata::can_give_files_away("every_format_renders_a_node") {
        return;
    }
    let dir = node("worker");
    let root = dir.path();
    let (code, text, _) = run(root, &[]);
    assert_eq!(
        code, 1,
        "kubeadm's 644 unit and configuration fail 4.1.1 and 4.1.9"
    );
    assert!(text.contains("NDF001"), "{text}");
    assert!(text.contains("CIS Kubernetes Benchmark 1.12"));
    assert!(
        text.contains("master         0 PASS   0 FAIL   0 WARN  60 INFO"),
        "{text}"
    );
    let (_, sarif, _) = run(root, &["--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    assert!(sarif["runs"][0]["results"].as_array().unwrap().len() >= 2);
    let (_, junit, _) = run(root, &["--format", "junit"]);
    assert!(junit.contains("<testsuite") && junit.contains("NDF009"));
    let (_, github, _) = run(root, &["--format", "github"]);
    assert!(
        github.contains("::warning") || github.contains("::error"),
        "{github}"
    );
    let (code, _, _) = run(root, &["--fail-on", "critical"]);
    assert_eq!(code, 0);
}

#[test]
fn selections_and_bad_roots() {
    if !palisade_testdata::can_give_files_away("selections_and_bad_roots") {
        return;
    }
    let dir = node("misconfigured");
    let (_, stdout, _) = run(dir.path(), &["--select", "API001", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["API001"]);
    let (code, _, stderr) = run(&dir.path().join("no-such-folder"), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("not a folder"), "{stderr}");
    // A malformed manifest is an input error (exit 2), and the other checks still run.
    std::fs::write(
        dir.path().join("etc/kubernetes/manifests/etcd.yaml"),
        "kind: Pod\napiVersion: v1\nspec: {containers: [\n",
    )
    .unwrap();
    let (code, report) = json(dir.path());
    assert_eq!(code, 2);
    assert!(!report["errors"].as_array().unwrap().is_empty());
    // Without etcd's flags its data directory (--data-dir) is not found: 1.1.11 and 1.1.12
    // are WARN instead of FAIL.
    assert_eq!(report["cis"]["sections"]["master"]["fail"], 30);
    assert_eq!(report["cis"]["sections"]["etcd"]["warn"], 7);
}
