//! End-to-end tests of `palisade fix`: diffs, rewriting files, and rescanning the result.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

mod common;

use common::{root, run};

/// The findings of `palisade scan` over `path` in `dir`.
fn scan(dir: &Path, path: &str) -> Vec<Value> {
    let (_, out, err) = run(dir, &["scan", "--no-config", "-f", "json", path]);
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    report["findings"].as_array().unwrap().clone()
}

/// Rule IDs of the findings of `palisade scan` over `path` in `dir`.
fn scanned_rules(dir: &Path, path: &str) -> Vec<String> {
    scan(dir, path)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_owned())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const POD: &str = "\
# Web pod: keep this comment.
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
  - name: app   # the app
    image: nginx:1.25
    securityContext:
      privileged: true
";

const RULES: &[&str] = &["POD001", "POD002", "POD004"];

#[test]
fn diff_mode_prints_a_unified_diff_and_leaves_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", POD);
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--select",
            "POD001,POD002",
            "pod.yaml",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        out,
        "\
--- a/pod.yaml
+++ b/pod.yaml
@@ -9,4 +9,5 @@
   - name: app   # the app
     image: nginx:1.25
     securityContext:
-      privileged: true
+      privileged: false
+      allowPrivilegeEscalation: false
"
    );
    assert!(
        err.contains("Would fix 2 findings in 1 file (POD001, POD002)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap(),
        POD
    );
}

#[test]
fn write_fixes_the_selected_rules_and_rescanning_finds_none() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", POD);
    let before = scanned_rules(dir.path(), "pod.yaml");
    for rule in RULES {
        assert!(before.iter().any(|r| r == rule), "{rule} in {before:?}");
    }
    let selected = RULES.join(",");
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "--select",
            &selected,
            ".",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("Fixed 3 findings in 1 file (POD001, POD002, POD004)"),
        "{out}"
    );
    let after = scanned_rules(dir.path(), "pod.yaml");
    for rule in RULES {
        assert!(
            !after.iter().any(|r| r == rule),
            "{rule} still in {after:?}"
        );
    }
    let text = std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap();
    assert!(
        text.starts_with("# Web pod: keep this comment.\n"),
        "{text}"
    );
    assert!(text.contains("  - name: app   # the app\n"), "{text}");
    // Nothing is left to fix for those rules.
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--select",
            &selected,
            "pod.yaml",
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("No fixes to apply."), "{err}");
}

#[test]
fn select_fixes_one_rule_only() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pod.yaml",
        &POD.replace("privileged: true", "privileged: false"),
    );
    let (code, _, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "--select",
            "POD002,POD004",
            "pod.yaml",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let after = scanned_rules(dir.path(), "pod.yaml");
    assert!(!after.iter().any(|r| r == "POD002"), "{after:?}");
    assert!(!after.iter().any(|r| r == "POD004"), "{after:?}");
    assert!(after.iter().any(|r| r == "POD006"), "{after:?}");
}

/// The issue's first case: `allowPrivilegeEscalation: false` next to `privileged: true` is
/// refused by the API server, so the fix is not applied, and says why.
#[test]
fn privilege_escalation_is_not_turned_off_next_to_privileged() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", POD);
    let (code, out, err) = run(
        dir.path(),
        &["fix", "--no-config", "--select", "POD002", "pod.yaml"],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains(
            "pod.yaml:11:5: POD002 fix not applied: the object would be invalid: \
             spec.containers[0].securityContext: cannot set `allowPrivilegeEscalation` to false \
             and `privileged` to true"
        ),
        "{err}"
    );
    assert!(
        err.contains("No fixes to apply. 1 fix not applied"),
        "{err}"
    );
    // With the unsafe fix that turns privileged off, both apply, whatever their order.
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--select",
            "POD002,POD001",
            "pod.yaml",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("-      privileged: true\n+      privileged: false\n+      allowPrivilegeEscalation: false\n"),
        "{out}"
    );
}

#[test]
fn multi_document_lists_and_json_files_are_fixed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "multi.yaml",
        "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: shop}
  spec:
    containers: [{name: app, image: nginx:1.25, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: b
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.25
      securityContext:
        privileged: yes
",
    );
    write(
        dir.path(),
        "pod.json",
        r#"{
  "apiVersion": "v1",
  "kind": "Pod",
  "metadata": {"name": "c", "namespace": "shop"},
  "spec": {
    "containers": [
      {"name": "app", "image": "nginx:1.25", "securityContext": {"privileged": true}}
    ]
  }
}
"#,
    );
    let selected = RULES.join(",");
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "--select",
            &selected,
            ".",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("in 2 files"), "{out}");
    let after = scanned_rules(dir.path(), ".");
    let left: Vec<&String> = after
        .iter()
        .filter(|r| RULES.contains(&r.as_str()))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let json = std::fs::read_to_string(dir.path().join("pod.json")).unwrap();
    let decoded: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(
        decoded["spec"]["containers"][0]["securityContext"]["privileged"],
        Value::Bool(false)
    );
}

#[test]
fn standard_input_gets_a_diff_and_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .args([
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--select",
            "POD001",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(POD.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("--- a/-\n+++ b/-\n"), "{stdout}");
    assert!(stdout.contains("+      privileged: false\n"), "{stdout}");

    let (code, out, err) = run(
        dir.path(),
        &["fix", "--no-config", "--unsafe-fixes", "--write", "-"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("--write cannot rewrite standard input"),
        "{err}"
    );
}

#[test]
fn a_fix_that_cannot_be_written_safely_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
  - name: a
    image: nginx:1.25
    securityContext: &sc
      privileged: true
  - name: b
    image: nginx:1.25
    securityContext: *sc
";
    write(dir.path(), "pod.yaml", text);
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "--select",
            "POD001",
            "pod.yaml",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("pod.yaml: not fixed (POD001)"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap(),
        text
    );
}

/// Every rule that declares automatic fixes.
fn fixable_rules() -> BTreeSet<String> {
    let (code, out, err) = run(&root(), &["rules", "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    let rules: Value = serde_json::from_str(&out).unwrap();
    rules
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["fixable"] == Value::Bool(true))
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn fixing_the_insecure_example_leaves_no_fixable_finding() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &root().join("examples/insecure"),
        &dir.path().join("insecure"),
    );
    let fixable = fixable_rules();
    let key = |f: &Value| {
        let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
        (text("file"), text("rule"), text("pointer"))
    };
    let before = scan(dir.path(), "insecure");
    assert!(
        before.iter().any(|f| f.get("fix").is_some()),
        "the example has fixable findings"
    );
    // Findings of fixable rules that carry no fix (nothing safe to write) stay.
    let without_fix: BTreeSet<_> = before
        .iter()
        .filter(|f| f.get("fix").is_none())
        .map(key)
        .collect();
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "insecure",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let after = scan(dir.path(), "insecure");
    let left: Vec<_> = after
        .iter()
        .filter(|f| fixable.contains(f["rule"].as_str().unwrap()))
        .map(key)
        .filter(|k| !without_fix.contains(k))
        .collect();
    assert!(
        left.is_empty(),
        "fixable findings left: {left:?}\n{out}{err}"
    );
    assert!(after.iter().all(|f| f.get("fix").is_none()), "{after:?}");
}

/// A pod whose container has an empty `securityContext:`: the rules fix it by replacing the
/// null, several of them at once.
const EMPTY_CONTEXT: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.25
    securityContext:
";

/// The number in "Fixed N findings …".
fn fixed_count(summary: &str) -> usize {
    summary
        .strip_prefix("Fixed ")
        .and_then(|rest| rest.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no count in {summary:?}"))
}

#[test]
fn the_fixed_count_is_what_was_applied() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", EMPTY_CONTEXT);
    let fixable_before = scan(dir.path(), "pod.yaml")
        .iter()
        .filter(|f| f.get("fix").is_some())
        .count();
    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "pod.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let after = scan(dir.path(), "pod.yaml");
    let fixable_after = after.iter().filter(|f| f.get("fix").is_some()).count();
    assert_eq!(fixable_after, 0, "{after:?}\n{out}");
    assert_eq!(fixed_count(&out), fixable_before - fixable_after, "{out}");
    let (code, out, err) = run(
        dir.path(),
        &["fix", "--no-config", "--unsafe-fixes", "pod.yaml"],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
}

#[cfg(unix)]
#[test]
fn write_keeps_the_permissions_of_each_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for (name, mode) in [("a.yaml", 0o640), ("b.yaml", 0o755), ("c.yaml", 0o444)] {
        let path = write(dir.path(), name, POD);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let (code, out, err) = run(
        dir.path(),
        &["fix", "--no-config", "--unsafe-fixes", "--write", "."],
    );
    assert_eq!(code, 0, "{out}{err}");
    for (name, mode) in [("a.yaml", 0o640), ("b.yaml", 0o755), ("c.yaml", 0o444)] {
        let path = dir.path().join(name);
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "{name}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("privileged: false"), "{name}: {text}");
    }
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.yaml", "b.yaml", "c.yaml"]);
}

#[cfg(unix)]
#[test]
fn fix_with_standard_error_full_or_closed_does_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pod.yaml", POD);
    // A file whose fix is refused, so that an error line is written too.
    write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\rkind: Pod\nmetadata:\n  name: x\nspec:\n  hostPID: true\n",
    );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .args([
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "pod.yaml",
            "bad.yaml",
        ])
        .stderr(full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{:?}", out.status);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("+++ b/pod.yaml"),
        "{out:?}"
    );
    let out = Command::new("bash")
        .current_dir(dir.path())
        .args([
            "-c",
            r#""$0" fix --no-config --unsafe-fixes --write pod.yaml bad.yaml 2>&-"#,
        ])
        .arg(cargo_bin("palisade"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = std::fs::read_to_string(dir.path().join("pod.yaml")).unwrap();
    assert!(text.contains("privileged: false"), "{text}");
}

/// A tmpfs mounted on a directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `bytes`, when running as root where mounting is allowed.
    #[allow(unsafe_code)]
    fn mount(bytes: usize) -> Option<Tmpfs> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn write_on_a_full_file_system_leaves_every_original_intact() {
    let Some(fs) = Tmpfs::mount(64 * 1024) else {
        eprintln!(
            "SKIPPED write_on_a_full_file_system_leaves_every_original_intact: \
             needs root and `mount -t tmpfs`"
        );
        return;
    };
    let dir = fs.dir.path();
    // Each file just under one 4 KiB page; fixed, it needs a second page.
    let padding = format!("# {}\n", "x".repeat(70)).repeat(50);
    let mut originals = Vec::new();
    for i in 0..4 {
        let text = format!(
            "{padding}{}",
            POD.replace("name: web", &format!("name: web{i}"))
        );
        assert!(text.len() < 4096 && text.len() > 3800, "{}", text.len());
        let name = format!("pod{i}.yaml");
        write(dir, &name, &text);
        originals.push((name, text));
    }
    // Fill the file system.
    let mut filler = std::fs::File::create(dir.join("filler")).unwrap();
    let page = [0u8; 4096];
    while filler.write_all(&page).is_ok() {}
    let _ = filler.sync_all();
    let (code, out, err) = run(
        dir,
        &["fix", "--no-config", "--unsafe-fixes", "--write", "."],
    );
    assert_eq!(code, 2, "{out}{err}");
    for (name, text) in &originals {
        assert_eq!(
            &std::fs::read_to_string(dir.join(name)).unwrap(),
            text,
            "{name}"
        );
        assert!(
            err.contains(&format!("error: {name}: cannot write file: ")),
            "{name}: {err}"
        );
    }
    assert!(err.contains("left unchanged"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["filler", "pod0.yaml", "pod1.yaml", "pod2.yaml", "pod3.yaml"]
    );
}

/// A node agent like the guide's Falco DaemonSet: it needs the host's namespaces, privileges
/// and a writable root file system.
const AGENT: &str = "\
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: falco
  namespace: falco
spec:
  selector:
    matchLabels: {app: falco}
  template:
    metadata:
      labels: {app: falco}
    spec:
      hostNetwork: true
      hostPID: true
      containers:
      - name: falco
        image: falcosecurity/falco:0.39.2
        securityContext:
          privileged: true
";

#[test]
fn without_unsafe_fixes_a_node_agent_keeps_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "agent.yaml", AGENT);
    let (code, out, err) = run(dir.path(), &["fix", "--no-config", "--write", "agent.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(dir.path().join("agent.yaml")).unwrap();
    // Only the safe seccomp default was added; everything the agent relies on stays.
    assert_eq!(
        text,
        format!("{AGENT}      securityContext:\n        seccompProfile:\n          type: RuntimeDefault\n"),
        "{out}"
    );
    assert!(out.contains("Fixed 1 finding in 1 file (POD011)."), "{out}");
    assert!(
        out.contains("unsafe fixes not applied (run with --unsafe-fixes to apply them too)"),
        "{out}"
    );
    // POD002 next to privileged: true is refused, not written.
    assert!(
        err.contains("POD002 fix not applied: the object would be invalid"),
        "{err}"
    );

    let (code, out, err) = run(
        dir.path(),
        &[
            "fix",
            "--no-config",
            "--unsafe-fixes",
            "--write",
            "agent.yaml",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(dir.path().join("agent.yaml")).unwrap();
    for field in [
        "hostNetwork: false",
        "hostPID: false",
        "privileged: false",
        "allowPrivilegeEscalation: false",
        "runAsNonRoot: true",
        "runAsUser: 65532",
    ] {
        assert!(text.contains(field), "{field}: {text}");
    }
}

#[test]
fn reports_and_explain_say_which_kind_each_fix_is() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "agent.yaml", AGENT);
    let findings = scan(dir.path(), "agent.yaml");
    let kind = |rule: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == rule)
            .map(|f| f["fix"]["applicability"].clone())
    };
    assert_eq!(kind("POD011"), Some(Value::from("safe")));
    assert_eq!(kind("POD001"), Some(Value::from("unsafe")));
    assert_eq!(kind("POD009"), Some(Value::from("unsafe")));

    let (_, text, _) = run(
        dir.path(),
        &[
            "scan",
            "--no-config",
            "--select",
            "POD001,POD011",
            "agent.yaml",
        ],
    );
    assert!(
        text.contains("privileged-container · unsafe fix (--unsafe-fixes)"),
        "{text}"
    );
    assert!(text.contains("seccomp-profile · safe fix\n"), "{text}");
    assert!(
        text.contains("1 fixable with `palisade fix`, 1 more with `--unsafe-fixes`"),
        "{text}"
    );

    let (_, sarif, _) = run(
        dir.path(),
        &[
            "scan",
            "--no-config",
            "--select",
            "POD001",
            "-f",
            "sarif",
            "agent.yaml",
        ],
    );
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"][0]["properties"]["fix"],
        Value::from("unsafe")
    );

    let (code, explain, _) = run(dir.path(), &["explain", "POD001", "-f", "markdown"]);
    assert_eq!(code, 0);
    assert!(
        explain.contains(
            "Its automatic fix is **unsafe**: `palisade fix` applies it only with `--unsafe-fixes`"
        ),
        "{explain}"
    );
    assert!(explain.contains("node agent such as Falco"), "{explain}");
    let (_, explain, _) = run(dir.path(), &["explain", "POD002", "-f", "markdown"]);
    assert!(
        explain.contains("Its automatic fix is **safe**"),
        "{explain}"
    );
}
