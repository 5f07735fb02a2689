//! End-to-end tests of the `palisade` binary: inputs, formats, exit codes, configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn palisade() -> Command {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.current_dir(root()).env("NO_COLOR", "1");
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

fn json_scan(dir: &Path, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = run(palisade()
        .current_dir(dir)
        .args(["scan", "-f", "json"])
        .args(args));
    (
        code,
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}")),
    )
}

const PRIVILEGED: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\nspec:\n  containers:\n  - name: app\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n";

fn temp_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[test]
fn hardened_examples_are_clean_and_insecure_ones_fail() {
    let (code, out, _) = run(palisade().args(["scan", "examples/hardened"]));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 findings"), "{out}");
    let (code, out, _) = run(palisade().args(["scan", "examples/insecure"]));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("POD001"), "{out}");
}

#[test]
fn text_report_has_a_code_frame_with_a_caret() {
    let dir = temp_with(&[("pod.yaml", PRIVILEGED)]);
    let (code, out, _) = run(palisade()
        .current_dir(dir.path())
        .args(["scan", "pod.yaml", "--select", "POD001"]));
    assert_eq!(code, 1);
    assert!(out.contains("critical[POD001]"), "{out}");
    assert!(out.contains("--> pod.yaml:11:7"), "{out}");
    assert!(out.contains("11 |       privileged: true"), "{out}");
    assert!(out.contains("|       ^^^^^^^^^^"), "{out}");
    assert!(
        !out.contains('\u{1b}'),
        "colour without a terminal: {out:?}"
    );
}

#[test]
fn json_report_has_the_documented_fields_and_relative_paths() {
    let dir = temp_with(&[("apps/pod.yaml", PRIVILEGED)]);
    let (code, v) = json_scan(dir.path(), &["apps", "--select", "privileged-container"]);
    assert_eq!(code, 1);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "POD001");
    assert_eq!(f["slug"], "privileged-container");
    assert_eq!(f["severity"], "critical");
    assert_eq!(f["category"], "workload");
    assert_eq!(f["file"], "apps/pod.yaml");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(11), Some(7))
    );
    assert_eq!(
        f["pointer"],
        "/spec/containers/0/securityContext/privileged"
    );
    assert_eq!(f["object"]["kind"], "Pod");
    assert_eq!(f["object"]["namespace"], "shop");
    assert_eq!(f["object"]["name"], "p");
    assert_eq!(f["object"]["apiVersion"], "v1");
    assert_eq!(f["fix"]["patch"][0]["op"], "replace");
    assert!(v["version"].is_string());
    assert_eq!(v["summary"]["findings"], 1);
    assert_eq!(v["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn stdin_is_scanned() {
    let mut cmd = palisade();
    cmd.args(["scan", "-", "--select", "POD001"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PRIVILEGED.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("--> -:11:7") && text.contains("privileged: true"),
        "{text}"
    );
}

#[test]
fn broken_files_are_errors_and_the_rest_is_still_scanned() {
    let dir = temp_with(&[
        (
            "a-broken.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: x\n",
        ),
        ("b-binary.yaml", "\0\0\0"),
        ("c-pod.yaml", PRIVILEGED),
        ("notes.txt", "not scanned"),
        (".hidden/pod.yaml", PRIVILEGED),
    ]);
    let (code, v) = json_scan(dir.path(), &["--select", "POD001"]);
    assert_eq!(code, 2, "input errors exit 2");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0]["file"], "a-broken.yaml");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["column"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(errors[1]["kind"], "binary");
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "hidden directories are skipped");
    assert_eq!(findings[0]["file"], "c-pod.yaml");
}

#[test]
fn gitignore_is_respected_unless_no_ignore() {
    let dir = temp_with(&[
        (".gitignore", "generated/\n"),
        ("generated/pod.yaml", PRIVILEGED),
    ]);
    let (_, v) = json_scan(dir.path(), &["--select", "POD001"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    let (_, v) = json_scan(dir.path(), &["--select", "POD001", "--no-ignore"]);
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn output_is_identical_whatever_the_parallelism() {
    let one = palisade()
        .env("RAYON_NUM_THREADS", "1")
        .args(["scan", "examples", "-f", "json"])
        .output()
        .unwrap();
    let many = palisade()
        .env("RAYON_NUM_THREADS", "4")
        .args(["scan", "examples", "-f", "json"])
        .output()
        .unwrap();
    assert!(!one.stdout.is_empty());
    assert_eq!(one.stdout, many.stdout);
}

#[test]
fn select_and_ignore_accept_ids_slugs_and_categories() {
    let dir = temp_with(&[("pod.yaml", PRIVILEGED)]);
    let rules = |args: &[&str]| -> Vec<String> {
        let (_, v) = json_scan(dir.path(), args);
        let mut r: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect();
        r.dedup();
        r
    };
    assert_eq!(rules(&["--select", "POD001"]), vec!["POD001"]);
    assert_eq!(
        rules(&["--select", "allow-privilege-escalation"]),
        vec!["POD002"]
    );
    assert!(rules(&["--select", "workload"]).contains(&"POD001".to_owned()));
    assert!(!rules(&["--ignore", "workload"])
        .iter()
        .any(|r| r.starts_with("POD")));
    let (code, _, err) =
        run(palisade()
            .current_dir(dir.path())
            .args(["scan", "--select", "privileged-containr"]));
    assert_eq!(code, 2);
    assert!(
        err.contains("did you mean \"privileged-container\""),
        "{err}"
    );
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = temp_with(&[("pod.yaml", PRIVILEGED)]);
    let (code, _, _) = run(palisade().current_dir(dir.path()).args([
        "scan",
        "--select",
        "POD002",
        "--fail-on",
        "high",
    ]));
    assert_eq!(code, 0, "a medium finding does not fail at --fail-on high");
    let (code, _, _) = run(palisade().current_dir(dir.path()).args([
        "scan",
        "--select",
        "POD002",
        "--fail-on",
        "medium",
    ]));
    assert_eq!(code, 1);
    let (code, _, _) =
        run(palisade()
            .current_dir(dir.path())
            .args(["scan", "--fail-on", "severe"]));
    assert_eq!(code, 2);
}

#[test]
fn config_errors_exit_2_with_a_suggestion() {
    let dir = temp_with(&[
        ("pod.yaml", PRIVILEGED),
        (".palisade.yaml", "ignroe: [POD001]\n"),
    ]);
    let (code, _, err) = run(palisade().current_dir(dir.path()).args(["scan"]));
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `ignore`"), "{err}");
    let dir = temp_with(&[
        ("pod.yaml", PRIVILEGED),
        (".palisade.yaml", "severity:\n  POD01: low\n"),
    ]);
    let (code, _, err) = run(palisade().current_dir(dir.path()).args(["scan"]));
    assert_eq!(code, 2);
    assert!(err.contains("did you mean \"POD001\""), "{err}");
}

#[test]
fn config_is_found_in_a_parent_directory() {
    let dir = temp_with(&[
        ("sub/pod.yaml", PRIVILEGED),
        (
            ".palisade.yaml",
            "select: [POD001]\nseverity:\n  POD001: low\n",
        ),
    ]);
    let (_, v) = json_scan(&dir.path().join("sub"), &[]);
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["severity"], "low");
}

#[test]
fn suppressions_apply_until_they_expire() {
    let config = "select: [POD001]\nsuppressions:\n- rule: privileged-container\n  path: \"*.yaml\"\n  kind: Pod\n  name: p\n  reason: node agent\n  expires: 2030-01-01\n";
    let dir = temp_with(&[("pod.yaml", PRIVILEGED), (".palisade.yaml", config)]);
    let (code, v) = json_scan(dir.path(), &[]);
    assert_eq!((code, v["findings"].as_array().unwrap().len()), (0, 0));
    let out = palisade()
        .current_dir(dir.path())
        .env("PALISADE_TODAY", "2030-01-02")
        .args(["scan", "-f", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("expired on 2030-01-01"),
        "{v}"
    );
    let missing_reason = "suppressions:\n- rule: POD001\n";
    let dir = temp_with(&[("pod.yaml", PRIVILEGED), (".palisade.yaml", missing_reason)]);
    let (code, _, err) = run(palisade().current_dir(dir.path()).args(["scan"]));
    assert_eq!(code, 2);
    assert!(err.contains("reason"), "{err}");
}

#[test]
fn annotation_ignores_rules_for_one_object() {
    let annotated = PRIVILEGED.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    palisade.dev/ignore: \"POD001, image-latest-tag\"\n    palisade.dev/ignore-reason: test\n",
    );
    let dir = temp_with(&[("pod.yaml", &annotated)]);
    let (_, v) = json_scan(dir.path(), &["--select", "POD001,POD002"]);
    let rules: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].clone())
        .collect();
    assert_eq!(rules, vec![Value::from("POD002")]);
}

#[test]
fn unknown_rules_in_the_ignore_annotation_are_warnings_with_the_nearest_name() {
    let annotated = |list: &str| {
        PRIVILEGED.replace(
            "  namespace: shop\n",
            &format!("  namespace: shop\n  annotations:\n    palisade.dev/ignore: \"{list}\"\n"),
        )
    };
    let dir = temp_with(&[("pod.yaml", &annotated("POD01, privileged-containr"))]);
    let (code, out, _) = run(palisade()
        .current_dir(dir.path())
        .args(["scan", "--select", "POD001"]));
    assert_eq!(code, 1, "the scan still runs: {out}");
    assert!(out.contains("POD001"), "{out}");
    for warning in [
        "warning: pod.yaml:7:5: palisade.dev/ignore names an unknown rule \"POD01\"; did you mean \"POD001\"?",
        "warning: pod.yaml:7:5: palisade.dev/ignore names an unknown rule \"privileged-containr\"; did you mean \"privileged-container\"?",
    ] {
        assert!(out.contains(warning), "{warning}: {out}");
    }
    let (_, v) = json_scan(dir.path(), &["--select", "POD001"]);
    assert_eq!(v["warnings"].as_array().unwrap().len(), 2, "{v}");
    let dir = temp_with(&[("pod.yaml", &annotated("POD001, image-latest-tag, all"))]);
    let (code, v) = json_scan(dir.path(), &["--select", "POD001"]);
    assert_eq!(code, 0);
    assert_eq!(v["warnings"], Value::Array(Vec::new()), "{v}");
}

#[test]
fn github_annotations_are_escaped_workflow_commands() {
    let dir = temp_with(&[("pod.yaml", PRIVILEGED)]);
    let (_, out, _) = run(palisade()
        .current_dir(dir.path())
        .args(["scan", "-f", "github", "--select", "POD001"]));
    let line = out.lines().next().unwrap();
    assert!(
        line.starts_with(
            "::error file=pod.yaml,line=11,col=7,title=POD001 privileged-container (critical)::"
        ),
        "{line}"
    );
}

#[test]
fn junit_has_a_failure_per_finding() {
    let dir = temp_with(&[("pod.yaml", PRIVILEGED)]);
    let (_, out, _) = run(palisade().current_dir(dir.path()).args([
        "scan",
        "-f",
        "junit",
        "--select",
        "POD001,POD002",
    ]));
    assert!(out.starts_with("<?xml"), "{out}");
    assert_eq!(out.matches("<failure").count(), 2, "{out}");
    assert!(
        out.contains("tests=\"2\"") && out.contains("failures=\"2\""),
        "{out}"
    );
    let (_, clean, _) = run(palisade().args(["scan", "examples/hardened", "-f", "junit"]));
    assert!(
        clean.contains("tests=\"1\"") && clean.contains("failures=\"0\""),
        "{clean}"
    );
}

/// Microsoft's SARIF validator, installed by .ci/run into target/sarif-tools when npm exists.
fn sarif_validator() -> Option<PathBuf> {
    let local = root().join("target/sarif-tools/node_modules/.bin/sarif-multitool");
    if local.exists() {
        return Some(local);
    }
    std::env::var_os("PALISADE_SARIF_MULTITOOL").map(PathBuf::from)
}

#[test]
fn sarif_passes_the_official_validator() {
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "a: [\n").unwrap();
    let status = palisade()
        .args([
            "scan",
            "examples",
            broken.to_str().unwrap(),
            "-f",
            "sarif",
            "-o",
            sarif.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(2));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run0 = &v["runs"][0];
    assert!(run0["tool"]["driver"]["rules"].as_array().unwrap().len() >= 6);
    assert!(
        run0["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            > 0
    );
    let Some(validator) = sarif_validator() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install @microsoft/sarif-multitool"
        );
        eprintln!("sarif-multitool not installed; validated the structure only");
        return;
    };
    let log = dir.path().join("validation.sarif");
    let status = Command::new(&validator)
        .args([
            "validate",
            sarif.to_str().unwrap(),
            "-o",
            log.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let problems: Vec<String> = report["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error" || r["level"] == "warning")
        .map(|r| format!("{} {}", r["ruleId"], r["message"]))
        .collect();
    assert!(problems.is_empty(), "validator: {problems:?}");
}

#[test]
fn rules_explain_and_init() {
    let (code, out, _) = run(palisade().args(["rules", "-f", "json"]));
    assert_eq!(code, 0);
    let rules: Value = serde_json::from_str(&out).unwrap();
    assert!(rules
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == "POD001" && r["slug"] == "privileged-container"));
    let (code, out, _) = run(palisade().args(["explain", "privileged-container"]));
    assert_eq!(code, 0);
    for section in [
        "POD001",
        "\nWhy it matters\n",
        "\nHow to fix it\n",
        "\nReferences\n",
        "CIS",
    ] {
        assert!(out.contains(section), "{section}: {out}");
    }
    let (code, _, err) = run(palisade().args(["explain", "POD01"]));
    assert_eq!(code, 2);
    assert!(err.contains("did you mean"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (code, _, _) = run(palisade().current_dir(dir.path()).arg("init"));
    assert_eq!(code, 0);
    let written = std::fs::read_to_string(dir.path().join(".palisade.yaml")).unwrap();
    assert!(written.contains("suppressions:"));
    let (code, _, _) = run(palisade()
        .current_dir(dir.path())
        .args(["scan", "--select", "POD001"]));
    assert_eq!(
        code, 0,
        "the written config is valid (and hidden files are not scanned)"
    );
    let (code, _, _) = run(palisade().current_dir(dir.path()).arg("init"));
    assert_eq!(code, 2, "init does not overwrite");
}

#[test]
fn rules_lists_only_the_categories_asked_for() {
    let categories = |args: &[&str]| {
        let (code, out, err) = run(palisade().args(["rules", "-f", "json"]).args(args));
        assert_eq!(code, 0, "{err}");
        let rules: Value = serde_json::from_str(&out).unwrap();
        let mut found: Vec<String> = rules
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["category"].as_str().unwrap().to_owned())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    };
    assert_eq!(categories(&["--category", "workload"]), ["workload"]);
    assert_eq!(
        categories(&["--category", "workload,image"]),
        ["image", "workload"]
    );
    assert_eq!(
        categories(&["--category", "image", "--category", "workload"]),
        ["image", "workload"]
    );
    let (code, out, _) = run(palisade().args(["rules", "--category", "image"]));
    assert_eq!(code, 0);
    assert!(out.lines().count() > 0, "{out}");
    assert!(out.lines().all(|l| l.contains(" image ")), "{out}");
    let (code, out, err) = run(palisade().args(["rules", "--category", "workloads"]));
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    for expected in ["unknown category \"workloads\"", "rbac", "workload"] {
        assert!(err.contains(expected), "{expected}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = run(palisade().args(["scan", "--format", "yaml"]));
    assert_eq!(code, 2);
    let (code, _, _) = run(palisade().args(["scan", "does-not-exist"]));
    assert_eq!(code, 2);
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::BufRead;
    let mut child = palisade()
        .args(["rules", "-f", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(first.trim(), "[");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101));
}

#[test]
fn the_webhook_section_is_checked_by_every_command_that_reads_the_file() {
    let config = "select: [POD001]\nwebhook:\n  mode: deny\n";
    let dir = temp_with(&[("pod.yaml", PRIVILEGED), (".palisade.yaml", config)]);
    for args in [
        &["scan", "pod.yaml"][..],
        &["fix", "pod.yaml"],
        &[
            "serve",
            "--self-signed",
            "127.0.0.1",
            "--addr",
            "127.0.0.1:0",
        ],
    ] {
        let (code, out, err) = run(palisade().current_dir(dir.path()).args(args));
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            err.contains(".palisade.yaml: webhook: unknown mode \"deny\""),
            "{args:?}: {err}"
        );
    }
    let (code, _, err) =
        run(palisade()
            .current_dir(dir.path())
            .args(["scan", "--no-config", "pod.yaml"]));
    assert_eq!(code, 1, "without the file the finding fails the run: {err}");
}

#[test]
fn command_errors_exit_2_with_one_error_line() {
    let dir = temp_with(&[("pod.yaml", PRIVILEGED)]);
    let cases: [(&[&str], &str); 4] = [
        (
            &["explain", "workload"],
            "error: \"workload\" names a category of ",
        ),
        (
            &["explain", "POD01"],
            "error: unknown rule or category \"POD01\"",
        ),
        (
            &["scan", "--config", "missing.yaml", "pod.yaml"],
            "error: missing.yaml: cannot read: ",
        ),
        (
            &["scan", "--no-config", "--select", "nope", "pod.yaml"],
            "error: unknown rule or category \"nope\"",
        ),
    ];
    for (args, expected) in cases {
        let (code, out, err) = run(palisade().current_dir(dir.path()).args(args));
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(err.starts_with(expected), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}
