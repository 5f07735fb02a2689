//! End-to-end tests of `palisade pss` and `palisade pss suggest`: every workload kind, policies
//! from namespace labels (enforce, warn, audit), defaults, the admission configuration's
//! exemptions, suggestions, messages and exit codes.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn palisade() -> Command {
    let mut cmd = Command::new(cargo_bin("palisade"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = palisade()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("palisade runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout)
        .expect("JSON output")
        .as_array()
        .expect("a list")
        .clone()
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write input");
    }
    dir
}

const PRIVILEGED: &str =
    "containers: [{name: app, image: nginx, securityContext: {privileged: true}}]";

/// One object of every kind with a pod spec, each with a privileged container, and a Service.
fn workload_kinds() -> String {
    let spec = format!("{{{PRIVILEGED}}}");
    let template = format!("{{metadata: {{labels: {{app: a}}}}, spec: {spec}}}");
    [
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p, namespace: ns}}\nspec: {spec}\n"),
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d, namespace: ns}}\nspec:\n  template: {template}\n"),
        format!("apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: rs, namespace: ns}}\nspec:\n  template: {template}\n"),
        format!("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: ss, namespace: ns}}\nspec:\n  template: {template}\n"),
        format!("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: ds, namespace: ns}}\nspec:\n  template: {template}\n"),
        format!("apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: ns}}\nspec:\n  template: {template}\n"),
        format!("apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: cj, namespace: ns}}\nspec:\n  jobTemplate:\n    spec:\n      template: {template}\n"),
        format!("apiVersion: v1\nkind: ReplicationController\nmetadata: {{name: rc, namespace: ns}}\nspec:\n  template: {template}\n"),
        format!("apiVersion: v1\nkind: PodTemplate\nmetadata: {{name: pt, namespace: ns}}\ntemplate: {template}\n"),
        "apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: ns}\nspec: {ports: [{port: 80}]}\n".to_owned(),
    ]
    .join("---\n")
}

#[test]
fn every_workload_kind_is_judged_with_admissions_message() {
    let dir = dir_with(&[("all.yaml", &workload_kinds())]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &[
            "pss",
            "all.yaml",
            "--level",
            "baseline",
            "--version",
            "v1.30",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    let verdicts = json(&stdout);
    let kinds: Vec<&str> = verdicts
        .iter()
        .map(|v| v["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Pod",
            "Deployment",
            "ReplicaSet",
            "StatefulSet",
            "DaemonSet",
            "Job",
            "CronJob",
            "ReplicationController",
            "PodTemplate"
        ]
    );
    let lines: Vec<u64> = verdicts
        .iter()
        .map(|v| v["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 6, 12, 18, 24, 30, 36, 44, 50]);
    for verdict in &verdicts {
        assert_eq!(verdict["file"], "all.yaml");
        assert_eq!(verdict["namespace"], "ns");
        assert_eq!(verdict["allowed"], false);
        assert_eq!(verdict["policy"], "baseline:v1.30");
        assert_eq!(verdict["policySource"], "flag");
        assert_eq!(
            verdict["reasons"],
            serde_json::json!([
                r#"privileged (container "app" must not set securityContext.privileged=true)"#
            ])
        );
        assert_eq!(verdict["checks"], serde_json::json!(["privileged"]));
        assert_eq!(
            verdict["message"],
            r#"violates PodSecurity "baseline:v1.30": privileged (container "app" must not set securityContext.privileged=true)"#
        );
        assert_eq!(verdict["warn"], Value::Null);
        assert_eq!(verdict["audit"], Value::Null);
    }
    let (code, stdout, _) = run(
        dir.path(),
        &[
            "pss",
            "all.yaml",
            "--level",
            "privileged",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    assert!(json(&stdout).iter().all(|v| v["allowed"] == true));
}

const RESTRICTED_POD: &str = "apiVersion: v1
kind: Pod
metadata: {name: good, namespace: shop}
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: app
    securityContext:
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL]}
";

#[test]
fn text_output_and_exit_codes() {
    let dir = dir_with(&[
        ("good.yaml", RESTRICTED_POD),
        (
            "bad.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  hostNetwork: true\n  containers: [{name: app, image: app}]\n",
        ),
    ]);
    let (code, stdout, stderr) = run(dir.path(), &["pss", "good.yaml"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(
        stdout,
        "good.yaml:1: Pod shop/good: allowed (restricted:latest, default)\n\
         1 pod or workload checked: 1 allowed, 0 denied, 0 exempt\n"
    );
    let (code, stdout, _) = run(
        dir.path(),
        &["pss", "bad.yaml", "good.yaml", "--level", "baseline"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "bad.yaml:1: Pod default/bad: denied: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true)\n\
         good.yaml:1: Pod shop/good: allowed (baseline:latest)\n\
         2 pods and workloads checked: 1 allowed, 1 denied, 0 exempt\n"
    );
}

#[test]
fn input_errors_exit_2_with_positions() {
    let dir = dir_with(&[
        ("good.yaml", RESTRICTED_POD),
        ("broken.yaml", "kind: Pod\nmetadata: {name: x\n"),
    ]);
    let (code, stdout, stderr) = run(dir.path(), &["pss", "broken.yaml", "good.yaml"]);
    assert_eq!(code, 2);
    let position: Vec<&str> = stderr
        .strip_prefix("error: broken.yaml:")
        .unwrap_or_else(|| panic!("{stderr}"))
        .splitn(3, ':')
        .collect();
    assert!(
        position.len() == 3 && position[..2].iter().all(|n| n.parse::<u32>().is_ok()),
        "file:line:col expected: {stderr}"
    );
    assert!(stdout.contains("Pod shop/good: allowed"), "{stdout}");
    let (code, _, stderr) = run(dir.path(), &["pss", "missing.yaml"]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: missing.yaml:1:1: no such file or directory\n"
    );
    let (code, _, stderr) = run(dir.path(), &["pss", "good.yaml", "--level", "strict"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("expected privileged, baseline or restricted"),
        "{stderr}"
    );
    let (code, _, stderr) = run(dir.path(), &["pss", "good.yaml", "--version", "v1.x"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("expected latest or v1.N"), "{stderr}");
}

const LABELLED: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: v1.29
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/audit-version: v1.24
---
apiVersion: v1
kind: Namespace
metadata:
  name: legacy
  labels:
    pod-security.kubernetes.io/enforce: baseline
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: web, image: web}]
---
apiVersion: v1
kind: Pod
metadata: {name: priv, namespace: shop}
spec:
  containers: [{name: app, image: app, securityContext: {privileged: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: ports, namespace: legacy}
spec:
  containers: [{name: app, image: app, ports: [{containerPort: 80, hostPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {team: platform}}
";

const RESTRICTED_GAPS: &str = r#"allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#;

#[test]
fn namespace_labels_decide_enforce_warn_and_audit() {
    let dir = dir_with(&[("app.yaml", LABELLED)]);
    let (code, stdout, stderr) = run(dir.path(), &["pss", "app.yaml", "--format", "json"]);
    assert_eq!((code, stderr.as_str()), (1, ""));
    let verdicts = json(&stdout);
    assert_eq!(verdicts.len(), 4);

    let web = &verdicts[0];
    assert_eq!(web["name"], "web");
    assert_eq!(web["allowed"], true);
    assert_eq!(web["policy"], "baseline:v1.29");
    assert_eq!(web["policySource"], "namespace");
    assert_eq!(web["message"], Value::Null);
    assert_eq!(
        web["warn"],
        format!(r#"would violate PodSecurity "restricted:latest": {RESTRICTED_GAPS}"#)
    );
    // The audit version label applies to audit only.
    assert_eq!(
        web["audit"],
        format!(r#"would violate PodSecurity "restricted:v1.24": {RESTRICTED_GAPS}"#)
    );

    let privileged = &verdicts[1];
    assert_eq!(privileged["allowed"], false);
    assert_eq!(
        privileged["message"],
        r#"violates PodSecurity "baseline:v1.29": privileged (container "app" must not set securityContext.privileged=true)"#
    );

    // No warn label: warn follows the enforce level and version.
    let ports = &verdicts[2];
    assert_eq!(ports["namespace"], "legacy");
    assert_eq!(ports["allowed"], false);
    assert_eq!(
        ports["message"],
        r#"violates PodSecurity "baseline:latest": hostPort (container "app" uses hostPort 80)"#
    );
    assert_eq!(
        ports["warn"],
        r#"would violate PodSecurity "baseline:latest": hostPort (container "app" uses hostPort 80)"#
    );
    assert_eq!(ports["audit"], Value::Null);

    // No namespace: `default`, which the input holds without Pod Security labels: the default
    // level.
    let plain = &verdicts[3];
    assert_eq!(plain["namespace"], "default");
    assert_eq!(plain["policy"], "restricted:latest");
    assert_eq!(plain["policySource"], "default");
    assert_eq!(plain["allowed"], false);

    let (code, stdout, _) = run(
        dir.path(),
        &[
            "pss",
            "app.yaml",
            "--default-level",
            "baseline",
            "--default-version",
            "v1.25",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        stdout.contains("app.yaml:39: Pod default/plain: allowed (baseline:v1.25, default)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "app.yaml:19: Deployment shop/web: allowed (baseline:v1.29, namespace labels)\n  \
             warn: would violate PodSecurity \"restricted:latest\": {RESTRICTED_GAPS}\n  \
             audit: would violate PodSecurity \"restricted:v1.24\": {RESTRICTED_GAPS}\n"
        )),
        "{stdout}"
    );
}

#[test]
fn invalid_labels_warn_and_enforce_restricted() {
    let dir = dir_with(&[(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: typo\n  labels:\n    pod-security.kubernetes.io/enforce: strict\n---\n\
         apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: typo}\nspec:\n  containers: [{name: app, image: app}]\n",
    )]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["pss", "ns.yaml", "--default-level", "privileged"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "warning: ns.yaml:6:5: Namespace typo: metadata.labels[pod-security.kubernetes.io/enforce]: \
         Invalid value: \"strict\": must be one of privileged, baseline, restricted\n"
    );
    assert!(
        stdout.starts_with(
            "ns.yaml:8: Pod typo/p: denied: violates PodSecurity \"restricted:latest\": "
        ),
        "{stdout}"
    );
}

const CONFIG: &str = "apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: PodSecurity
  configuration:
    apiVersion: pod-security.admission.config.k8s.io/v1
    kind: PodSecurityConfiguration
    defaults:
      enforce: baseline
      enforce-version: v1.29
      warn: restricted
    exemptions:
      runtimeClasses: [kata]
      namespaces: [monitoring]
";

const EXEMPTIONS: &str = "apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: monitoring}
spec:
  hostNetwork: true
  containers: [{name: agent, image: agent}]
---
apiVersion: v1
kind: Pod
metadata: {name: sandboxed, namespace: shop}
spec:
  runtimeClassName: kata
  hostPID: true
  containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: shop}
spec:
  hostIPC: true
  containers: [{name: app, image: app}]
---
apiVersion: v1
kind: Pod
metadata: {name: fine, namespace: shop}
spec:
  containers: [{name: app, image: app}]
";

#[test]
fn admission_configuration_defaults_and_exemptions() {
    let dir = dir_with(&[("admission.yaml", CONFIG), ("pods.yaml", EXEMPTIONS)]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["pss", "pods.yaml", "--config", "admission.yaml"],
    );
    assert_eq!((code, stderr.as_str()), (1, ""));
    let expected_warn = r#"would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "app" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "app" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#;
    assert_eq!(
        stdout,
        format!(
            "pods.yaml:1: Pod monitoring/agent: exempt (namespace monitoring)\n\
             pods.yaml:8: Pod shop/sandboxed: exempt (runtime class kata)\n\
             pods.yaml:16: Pod shop/host: denied: violates PodSecurity \"baseline:v1.29\": host namespaces (hostIPC=true)\n  \
             warn: would violate PodSecurity \"restricted:latest\": host namespaces (hostIPC=true), {}\n\
             pods.yaml:23: Pod shop/fine: allowed (baseline:v1.29, default)\n  warn: {expected_warn}\n\
             4 pods and workloads checked: 1 allowed, 1 denied, 2 exempt\n",
            expected_warn.trim_start_matches(r#"would violate PodSecurity "restricted:latest": "#)
        )
    );
    let (_, stdout, _) = run(
        dir.path(),
        &[
            "pss",
            "pods.yaml",
            "--config",
            "admission.yaml",
            "--format",
            "json",
        ],
    );
    let verdicts = json(&stdout);
    assert_eq!(verdicts[0]["exempt"], "namespace monitoring");
    assert_eq!(verdicts[0]["allowed"], true);
    assert_eq!(verdicts[1]["exempt"], "runtime class kata");
    assert_eq!(verdicts[2]["exempt"], Value::Null);
}

#[test]
fn admission_configuration_in_another_file() {
    let dir = dir_with(&[
        (
            "admission.yaml",
            "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n\
             - name: PodSecurity\n  path: podsecurity.yaml\n",
        ),
        (
            "podsecurity.yaml",
            "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\n\
             defaults: {enforce: privileged}\nexemptions: {namespaces: [shop]}\n",
        ),
        ("pods.yaml", EXEMPTIONS),
    ]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["pss", "pods.yaml", "--config", "admission.yaml"],
    );
    assert_eq!((code, stderr.as_str()), (0, ""), "{stdout}");
    assert_eq!(
        stdout,
        "pods.yaml:1: Pod monitoring/agent: allowed (privileged:latest, default)\n\
         pods.yaml:8: Pod shop/sandboxed: exempt (namespace shop)\n\
         pods.yaml:16: Pod shop/host: exempt (namespace shop)\n\
         pods.yaml:23: Pod shop/fine: exempt (namespace shop)\n\
         4 pods and workloads checked: 1 allowed, 0 denied, 3 exempt\n"
    );
}

#[test]
fn invalid_configuration_is_an_input_error() {
    let dir = dir_with(&[
        (
            "bad.yaml",
            "apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\n\
             defaults: {enforce: strict}\n",
        ),
        ("pods.yaml", EXEMPTIONS),
    ]);
    let (code, stdout, stderr) = run(dir.path(), &["pss", "pods.yaml", "--config", "bad.yaml"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: bad.yaml: defaults.enforce: Invalid value: \"strict\": must be one of privileged, baseline, restricted\n"
    );
}

#[test]
fn suggest_finds_the_strictest_level_per_namespace() {
    let dir = dir_with(&[("app.yaml", LABELLED), ("good.yaml", RESTRICTED_POD)]);
    let (code, stdout, stderr) = run(dir.path(), &["pss", "suggest", "app.yaml", "good.yaml"]);
    assert_eq!(code, 0);
    // The suggestions for legacy and shop are weaker than their labels.
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("is weaker than"))
            .count(),
        2,
        "{stderr}"
    );
    assert_eq!(
        stdout,
        "namespace default: baseline:v1.37 (1 workload)\n  \
         blocking restricted:v1.37:\n    \
         app.yaml:39: Pod plain: allowPrivilegeEscalation != false (container \"app\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"app\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"app\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"app\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")\n  \
         kubectl label --overwrite ns default pod-security.kubernetes.io/enforce=baseline pod-security.kubernetes.io/enforce-version=v1.37\n\
         namespace legacy: privileged:v1.37 (1 workload), enforces baseline:latest now\n  \
         blocking baseline:v1.37:\n    \
         app.yaml:33: Pod ports: hostPort (container \"app\" uses hostPort 80)\n  \
         kubectl label --overwrite ns legacy pod-security.kubernetes.io/enforce=privileged pod-security.kubernetes.io/enforce-version=v1.37\n\
         namespace shop: privileged:v1.37 (3 workloads), enforces baseline:v1.29 now\n  \
         blocking baseline:v1.37:\n    \
         app.yaml:27: Pod priv: privileged (container \"app\" must not set securityContext.privileged=true)\n  \
         kubectl label --overwrite ns shop pod-security.kubernetes.io/enforce=privileged pod-security.kubernetes.io/enforce-version=v1.37\n"
    );
}

#[test]
fn suggest_json_has_the_label_patch() {
    let dir = dir_with(&[(
        "ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: empty}\n---\n\
         apiVersion: v1\nkind: Namespace\nmetadata: {name: labelled, labels: {team: a}}\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: labelled}\n\
         spec: {template: {spec: {containers: [{name: app, image: app}]}}}\n",
    )]);
    let (code, stdout, _) = run(
        dir.path(),
        &[
            "pss",
            "suggest",
            "ns.yaml",
            "--version",
            "v1.30",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let list = json(&stdout);
    assert_eq!(list.len(), 2);
    let empty = &list[0];
    assert_eq!(empty["namespace"], "empty");
    assert_eq!(empty["level"], "restricted");
    assert_eq!(empty["next"], Value::Null);
    assert_eq!(empty["workloads"], 0);
    assert_eq!(
        empty["patch"],
        serde_json::json!([
            {"op": "add", "path": "/metadata/labels", "value": {"pod-security.kubernetes.io/enforce": "restricted"}},
            {"op": "add", "path": "/metadata/labels/pod-security.kubernetes.io~1enforce-version", "value": "v1.30"},
        ])
    );
    let labelled = &list[1];
    assert_eq!(labelled["level"], "baseline");
    assert_eq!(labelled["version"], "v1.30");
    assert_eq!(labelled["current"], Value::Null);
    assert_eq!(
        labelled["command"],
        "kubectl label --overwrite ns labelled pod-security.kubernetes.io/enforce=baseline pod-security.kubernetes.io/enforce-version=v1.30"
    );
    assert_eq!(
        labelled["patch"],
        serde_json::json!([
            {"op": "add", "path": "/metadata/labels/pod-security.kubernetes.io~1enforce", "value": "baseline"},
            {"op": "add", "path": "/metadata/labels/pod-security.kubernetes.io~1enforce-version", "value": "v1.30"},
        ])
    );
    let blocker = &labelled["blockers"][0];
    assert_eq!(blocker["name"], "d");
    assert_eq!(blocker["line"], 9);
    assert_eq!(
        blocker["checks"],
        serde_json::json!([
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsNonRoot",
            "seccompProfile_restricted"
        ])
    );
    assert!(blocker["message"].as_str().unwrap().starts_with(
        r#"violates PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false"#
    ));
}

#[test]
fn a_namespace_labelled_twice_is_judged_by_its_least_strict_definition() {
    let dir = dir_with(&[
        (
            "base.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    \
             pod-security.kubernetes.io/enforce: restricted\n",
        ),
        (
            "overlay.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    \
             pod-security.kubernetes.io/enforce: baseline\n---\n\
             apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        ),
        (
            "good.yaml",
            RESTRICTED_POD
                .replace("runAsNonRoot: true", "runAsNonRoot: false")
                .as_str(),
        ),
    ]);
    let (code, stdout, stderr) = run(
        dir.path(),
        &["pss", "base.yaml", "overlay.yaml", "good.yaml"],
    );
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(
        stderr,
        "warning: namespace shop is defined 2 times with different Pod Security labels; judging \
         by the least strict, overlay.yaml:1\n"
    );
    assert_eq!(
        stdout,
        "good.yaml:1: Pod shop/good: allowed (baseline:latest, namespace labels)\n\
         1 pod or workload checked: 1 allowed, 0 denied, 0 exempt\n"
    );
}
