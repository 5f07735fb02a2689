//! Rendered inputs: Helm charts (without `helm`, and with a stand-in `helm` on the PATH) and
//! `scan --kustomize` with the real `kubectl`.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

/// Runs `palisade ARGS` in `dir` with `PATH` set to `path`: exit code, stdout, stderr.
fn run(dir: &Path, path: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("PATH", path)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const TEMPLATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: web
          image: {{ .Values.image | quote }}
          securityContext:
            privileged: {{ .Values.privileged }}
";

/// What `helm template` prints for the chart above.
const RENDERED: &str = "---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-name-web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: \"nginx:1.25\"
          securityContext:
            privileged: true
";

/// A repository with a chart in `charts/web` and a plain manifest beside it.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );
    write(
        dir.path(),
        "charts/web/values.yaml",
        "image: nginx:1.25\nreplicas: 1\nprivileged: true\n",
    );
    write(dir.path(), "charts/web/templates/deployment.yaml", TEMPLATE);
    write(
        dir.path(),
        "plain/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a}\ndata: {k: v}\n",
    );
    dir
}

#[test]
fn without_helm_a_chart_s_templates_are_skipped_with_one_notice() {
    let repo = repository();
    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = run(
        repo.path(),
        empty.path().to_str().unwrap(),
        &["scan", "--no-config", "."],
    );
    assert_eq!(code, 0, "not an input error: {out}{err}");
    assert!(!out.contains("error"), "{out}");
    let notices: Vec<&str> = out.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(
        notices,
        ["warning: charts/web: a Helm chart, whose templates/ were not scanned: `helm` is not on \
          the PATH (install it to render and scan the chart)"],
        "{out}"
    );
    assert!(!out.contains("deployment.yaml"), "{out}");

    let (code, out, _) = run(
        repo.path(),
        empty.path().to_str().unwrap(),
        &["scan", "--no-config", "-f", "json", "."],
    );
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{out}");
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(1), "{out}");
}

#[test]
fn with_helm_a_chart_is_rendered_and_findings_point_into_its_templates() {
    let repo = repository();
    let bin = tempfile::tempdir().unwrap();
    let calls = bin.path().join("calls");
    let helm = bin.path().join("helm");
    // The stand-in records its arguments and prints the rendering, with shell builtins only.
    write(
        bin.path(),
        "helm",
        &format!(
            "#!/bin/sh\necho \"$@\" >> '{}'\n[ \"$1\" = template ] || exit 1\nprintf '%s' '{}'\n",
            calls.display(),
            RENDERED.replace('\'', "'\\''")
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = bin.path().to_str().unwrap();
    let (code, out, err) = run(
        repo.path(),
        path,
        &["scan", "--no-config", "-f", "json", "."],
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap().trim(),
        "template ./charts/web"
    );
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{out}");
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(0), "{out}");
    let at = |rule: &str| {
        let f = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} in {out}"));
        (
            f["file"].as_str().unwrap().to_owned(),
            f["line"].as_u64().unwrap(),
        )
    };
    let template = "charts/web/templates/deployment.yaml".to_owned();
    // The line of the field in the template, not in the rendered text.
    assert_eq!(at("POD001"), (template.clone(), 13), "privileged");
    assert_eq!(at("IMG002"), (template.clone(), 11), "image");
    assert_eq!(at("POD011"), (template, 8), "the pod spec");

    // The text report shows the template's own line.
    let (_, out, _) = run(repo.path(), path, &["scan", "--no-config", "."]);
    assert!(
        out.contains("13 |             privileged: {{ .Values.privileged }}"),
        "{out}"
    );

    // A chart that helm cannot render is an input error at its Chart.yaml.
    write(
        bin.path(),
        "helm",
        "#!/bin/sh\necho 'Error: found in Chart.yaml, but missing in charts/ directory: db' >&2\nexit 1\n",
    );
    let (code, out, _) = run(repo.path(), path, &["scan", "--no-config", "."]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("error: charts/web/Chart.yaml:1:1: `helm template` failed")
            && out.contains("missing in charts/ directory: db"),
        "{out}"
    );
}

#[test]
fn fix_leaves_a_chart_s_templates_alone() {
    let repo = repository();
    let bin = tempfile::tempdir().unwrap();
    write(
        bin.path(),
        "helm",
        &format!("#!/bin/sh\nprintf '%s' '{RENDERED}'\n"),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let helm = bin.path().join("helm");
        std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (code, out, err) = run(
        repo.path(),
        bin.path().to_str().unwrap(),
        &["fix", "--no-config", "--write", "--unsafe-fixes", "."],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(
            "warning: charts/web: a Helm chart, whose templates/ are not fixed: they are not \
             YAML until rendered"
        ),
        "{err}"
    );
    let template =
        std::fs::read_to_string(repo.path().join("charts/web/templates/deployment.yaml")).unwrap();
    assert_eq!(template, TEMPLATE);
}

/// The `PATH` of this test run, where `kubectl` is looked for.
fn kubectl_path() -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| dir.join("kubectl").is_file());
    if !found {
        eprintln!(
            "SKIPPED kustomize_findings_point_to_the_files_the_objects_came_from: no `kubectl` \
             on the PATH, so nothing was checked"
        );
    }
    found.then_some(path)
}

#[test]
fn kustomize_findings_point_to_the_files_the_objects_came_from() {
    let Some(path) = kubectl_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base/kustomization.yaml",
        "resources:\n  - deployment.yaml\n",
    );
    write(
        dir.path(),
        "base/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    \
         spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n          \
         securityContext:\n            privileged: true\n",
    );
    write(
        dir.path(),
        "overlays/prod/kustomization.yaml",
        "namespace: prod\nnamePrefix: prod-\nresources:\n  - ../../base\n  - service.yaml\n\
         configMapGenerator:\n  - name: settings\n    literals: [mode=prod]\n",
    );
    write(
        dir.path(),
        "overlays/prod/service.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  type: NodePort\n  \
         ports: [{port: 80}]\n",
    );
    let (code, out, err) = run(
        dir.path(),
        &path,
        &[
            "scan",
            "--no-config",
            "-f",
            "json",
            "--kustomize",
            "overlays/prod",
        ],
    );
    assert_eq!(code, 1, "{out}{err}");
    let json: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(0), "{out}");
    let findings = json["findings"].as_array().unwrap();
    let at = |rule: &str| {
        let f = findings
            .iter()
            .find(|f| f["rule"] == rule)
            .unwrap_or_else(|| panic!("no {rule} in {out}"));
        (
            f["file"].as_str().unwrap().to_owned(),
            f["line"].as_u64().unwrap(),
            f["object"]["name"].as_str().unwrap().to_owned(),
        )
    };
    // The rendered objects (prefixed names, namespace) at their source files' lines.
    assert_eq!(
        at("POD001"),
        ("base/deployment.yaml".into(), 12, "prod-web".into())
    );
    assert_eq!(
        at("SVC002"),
        ("overlays/prod/service.yaml".into(), 6, "prod-web".into())
    );
    assert!(
        findings
            .iter()
            .all(|f| !f["file"].as_str().unwrap().contains("(kustomize)")),
        "every finding is mapped: {out}"
    );
    // Only the kustomization was scanned: not the files of the directory as well.
    assert_eq!(json["summary"]["objects"], 3, "{out}");

    // Something that is not a kustomization is an input error.
    let (code, out, _) = run(
        dir.path(),
        &path,
        &["scan", "--kustomize", "base/deployment.yaml"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error: base/deployment.yaml:1:1:"), "{out}");
}
