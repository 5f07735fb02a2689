//! Inputs that are not regular files (pipes, process substitution, FIFOs) and files whose
//! lines end with a carriage return alone.

use std::path::Path;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin;
use assert_cmd::Command;
use serde_json::Value;

const POD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  hostPID: true
  containers:
  - name: app
    image: nginx:1.25
    securityContext:
      privileged: true
";

/// A command that fails rather than hangs (reading a FIFO twice would block for ever).
fn palisade(dir: &Path) -> Command {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60));
    cmd
}

/// `bash -c script` with `$0` the palisade binary.
fn bash(dir: &Path, script: &str) -> Command {
    let mut cmd = Command::new("bash");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .args(["-c", script])
        .arg(cargo_bin("palisade"))
        .timeout(Duration::from_secs(60));
    cmd
}

fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Findings of a JSON report, without the file name: rule, line, column and message.
fn findings(report: &str) -> Vec<(String, u64, u64, String)> {
    let report: Value = serde_json::from_str(report).unwrap_or_else(|e| panic!("{e}: {report}"));
    assert_eq!(report["errors"].as_array().unwrap().len(), 0, "{report}");
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What a scan of the regular file `pod.yaml` finds.
fn regular_findings(dir: &Path) -> Vec<(String, u64, u64, String)> {
    let (code, out, err) =
        output(palisade(dir).args(["scan", "--no-config", "-f", "json", "pod.yaml"]));
    assert_eq!(code, 1, "{err}");
    let found = findings(&out);
    assert!(found.iter().any(|f| f.0 == "POD001"), "{found:?}");
    found
}

fn pod_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    dir
}

#[test]
fn process_substitution_finds_what_a_file_finds() {
    let dir = pod_dir();
    let expected = regular_findings(dir.path());
    let (code, out, err) = output(&mut bash(
        dir.path(),
        r#""$0" scan --no-config -f json <(cat pod.yaml)"#,
    ));
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&out), expected);
    // Code frames come from the text read once.
    let (code, out, err) = output(&mut bash(
        dir.path(),
        r#""$0" scan --no-config --select POD001 <(cat pod.yaml)"#,
    ));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains(":11:7\n"), "{out}");
    assert!(out.contains("11 |       privileged: true"), "{out}");
}

#[test]
fn dev_stdin_from_a_pipe_finds_what_a_file_finds() {
    let dir = pod_dir();
    let expected = regular_findings(dir.path());
    let (code, out, err) = output(
        palisade(dir.path())
            .args(["scan", "--no-config", "-f", "json", "/dev/stdin"])
            .write_stdin(POD),
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&out), expected);
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Writes `text` into the FIFO once a reader opens it. The thread is not joined: if the
/// reader never comes it stays blocked until the test process ends.
#[cfg(unix)]
fn feed(fifo: &Path, text: &'static str) {
    let fifo = fifo.to_path_buf();
    std::thread::spawn(move || std::fs::write(fifo, text));
}

#[cfg(unix)]
#[test]
fn a_fifo_finds_what_a_file_finds_with_code_frames() {
    let dir = pod_dir();
    let expected = regular_findings(dir.path());
    let fifo = dir.path().join("pod.fifo");
    mkfifo(&fifo);
    feed(&fifo, POD);
    let (code, out, err) =
        output(palisade(dir.path()).args(["scan", "--no-config", "-f", "json", "pod.fifo"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&out), expected);
    feed(&fifo, POD);
    let (code, out, err) = output(palisade(dir.path()).args([
        "scan",
        "--no-config",
        "--select",
        "POD001",
        "pod.fifo",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("--> pod.fifo:11:7\n"), "{out}");
    assert!(out.contains("11 |       privileged: true"), "{out}");
}

#[cfg(unix)]
#[test]
fn fix_prints_a_diff_for_a_fifo_and_write_refuses_it() {
    let dir = pod_dir();
    let fifo = dir.path().join("pod.fifo");
    mkfifo(&fifo);
    feed(&fifo, POD);
    let (code, out, err) = output(palisade(dir.path()).args([
        "fix",
        "--no-config",
        "--unsafe-fixes",
        "--select",
        "POD001",
        "pod.fifo",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(out.starts_with("--- a/pod.fifo\n+++ b/pod.fifo\n"), "{out}");
    assert!(
        out.contains("-      privileged: true\n+      privileged: false\n"),
        "{out}"
    );
    // Refused before reading: no writer is waiting on the FIFO.
    let (code, out, err) =
        output(palisade(dir.path()).args(["fix", "--no-config", "--write", "pod.fifo"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("--write cannot rewrite pod.fifo: not a regular file"),
        "{err}"
    );
    let (code, _, err) = output(&mut bash(
        dir.path(),
        r#""$0" fix --no-config --write <(cat pod.yaml)"#,
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap(),
        POD
    );
}

#[test]
fn carriage_return_line_endings_get_the_right_lines_and_fixes() {
    let dir = tempfile::tempdir().unwrap();
    let cr = POD.replace('\n', "\r");
    std::fs::write(dir.path().join("cr.yaml"), &cr).unwrap();
    std::fs::write(dir.path().join("pod.yaml"), POD).unwrap();
    let (code, out, err) =
        output(palisade(dir.path()).args(["scan", "--no-config", "-f", "json", "cr.yaml"]));
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&out), regular_findings(dir.path()));
    let (_, out, _) =
        output(palisade(dir.path()).args(["scan", "--no-config", "--select", "POD001", "cr.yaml"]));
    assert!(out.contains("--> cr.yaml:11:7\n"), "{out}");
    assert!(out.contains("11 |       privileged: true\n"), "{out}");

    let (code, out, err) = output(palisade(dir.path()).args([
        "fix",
        "--no-config",
        "--unsafe-fixes",
        "--select",
        "POD001",
        "cr.yaml",
    ]));
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("\n-      privileged: true\r\n+      privileged: false\r\n"),
        "{out}"
    );
    let (code, out, err) =
        output(palisade(dir.path()).args(["fix", "--no-config", "--write", "cr.yaml"]));
    assert_eq!(code, 0, "{out}{err}");
    let fixed = std::fs::read_to_string(dir.path().join("cr.yaml")).unwrap();
    assert!(!fixed.contains('\n'), "{fixed:?}");
    let (code, out, err) =
        output(palisade(dir.path()).args(["fix", "--no-config", "--write", "pod.yaml"]));
    assert_eq!(code, 0, "{out}{err}");
    let lf = std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap();
    assert_eq!(fixed, lf.replace('\n', "\r"));
}

#[test]
fn a_stray_carriage_return_gets_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let text = POD.replacen("  name: web\n", "  name: web\r", 1);
    std::fs::write(dir.path().join("pod.yaml"), &text).unwrap();
    let (code, out, err) =
        output(palisade(dir.path()).args(["fix", "--no-config", "--write", "pod.yaml"]));
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains(
            "line 4 ends with a carriage return alone while other lines end with a line feed"
        ),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap(),
        text
    );
}
