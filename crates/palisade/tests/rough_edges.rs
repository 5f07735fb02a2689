//! The rough edges a new user hits: RBAC resource names as kubectl takes them, duplicate
//! objects, `pss suggest` against the label in force, `netpol eval` with addresses, the same
//! `-f/--format` everywhere and `explain` for a terminal.

use std::path::Path;
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

/// Runs `palisade ARGS` in `dir` without colour: exit code, stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn files(contents: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in contents {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const RBAC: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: app}
rules:
  - apiGroups: ['']
    resources: [secrets, pods, pods/log]
    verbs: [get]
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get]
  - apiGroups: [example.com]
    resources: [widgets]
    verbs: [get, frobnicate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: app}
subjects: [{kind: User, name: alice}]
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions: [{name: v1, served: true, storage: true}]
";

#[test]
fn rbac_takes_resource_names_as_kubectl_does() {
    let dir = files(&[("rbac.yaml", RBAC)]);
    for (resource, plural, group) in [
        ("secret", "secrets", ""),
        ("secrets", "secrets", ""),
        ("Secret", "secrets", ""),
        ("po", "pods", ""),
        ("pod", "pods", ""),
        ("deploy", "deployments", "apps"),
        ("Deployment", "deployments", "apps"),
        ("deployment.apps", "deployments", "apps"),
        ("wg", "widgets", "example.com"),
        ("widget", "widgets", "example.com"),
        ("Widget", "widgets", "example.com"),
        ("pods/log", "pods", ""),
    ] {
        let (code, out, err) = run(
            dir.path(),
            &["rbac", "who-can", "get", resource, "rbac.yaml"],
        );
        assert_eq!(code, 0, "{resource}: {err}");
        assert!(out.contains("User alice"), "{resource}: {out}");
        let (code, out, err) = run(
            dir.path(),
            &[
                "rbac",
                "can-i",
                "get",
                resource,
                "--as",
                "alice",
                "-n",
                "app",
                "rbac.yaml",
            ],
        );
        assert_eq!((code, out.as_str()), (0, "yes\n"), "{resource}: {err}");
        let (_, out, _) = run(
            dir.path(),
            &[
                "rbac",
                "who-can",
                "get",
                resource,
                "--format",
                "json",
                "rbac.yaml",
            ],
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["request"]["resource"], plural, "{resource}");
        assert_eq!(v["request"]["group"], group, "{resource}");
    }
    // A custom verb that a rule names is a verb.
    let (code, out, _) = run(
        dir.path(),
        &["rbac", "who-can", "frobnicate", "widgets", "rbac.yaml"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("User alice"), "{out}");
}

#[test]
fn rbac_unknown_resources_and_verbs_are_errors_with_the_nearest_name() {
    let dir = files(&[("rbac.yaml", RBAC)]);
    let cases: [(&[&str], &str); 4] = [
        (
            &["who-can", "get", "secerts"],
            "error: unknown resource \"secerts\": not a built-in resource, nor one of a \
             CustomResourceDefinition or RBAC rule in the input; did you mean \"secrets\"?",
        ),
        (
            &["who-can", "gett", "secrets"],
            "error: unknown verb \"gett\"; did you mean \"get\"?",
        ),
        (
            &["can-i", "lst", "pods", "--as", "alice"],
            "error: unknown verb \"lst\"; did you mean \"list\"?",
        ),
        (
            &["who-can", "get", "gadgets.example.com"],
            "error: unknown resource \"gadgets.example.com\"",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["rbac"];
        all.extend(args);
        all.push("rbac.yaml");
        let (code, out, err) = run(dir.path(), &all);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(out.is_empty(), "no answer: {out}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn rbac_resource_slash_name_is_ambiguous_and_points_to_name() {
    let dir = files(&[("rbac.yaml", RBAC)]);
    let (code, out, err) = run(
        dir.path(),
        &[
            "rbac",
            "who-can",
            "get",
            "configmaps/app-config",
            "rbac.yaml",
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains(
            "error: \"configmaps/app-config\" is ambiguous: configmaps has no subresource \
             \"app-config\", and palisade reads RESOURCE/SUBRESOURCE; for the object named \
             \"app-config\", give `configmaps --name app-config`"
        ),
        "{err}"
    );
    // What it points to works.
    let (code, _, err) = run(
        dir.path(),
        &[
            "rbac",
            "who-can",
            "get",
            "configmaps",
            "--name",
            "app-config",
            "rbac.yaml",
        ],
    );
    assert_eq!(code, 0, "{err}");
}

fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn two_definitions_of_one_object_are_reported_with_both_places() {
    let sa = |automount: bool| {
        format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n\
             automountServiceAccountToken: {automount}\n"
        )
    };
    let dir = files(&[
        ("a.yaml", &sa(false)),
        ("b.yaml", &sa(true)),
        ("c.yaml", &sa(false)),
    ]);
    let (code, out, _) = run(
        dir.path(),
        &["scan", "--no-config", "--select", "YAML002", "."],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "medium[YAML002] ServiceAccount shop/web is defined again here with different \
             content (first at a.yaml:4:3); only one of the two can exist in a cluster\n --> \
             b.yaml:4:3"
        ),
        "{out}"
    );
    // c.yaml is a copy of a.yaml: not reported.
    assert!(out.contains("1 finding (1 medium)"), "{out}");
}

/// The two example sets live in their own namespaces: scanning both together loses nothing
/// and reports no duplicate (the README's numbers).
#[test]
fn the_example_sets_do_not_collide() {
    let count = |path: &str| {
        let (_, out, err) = run(&repo_root(), &["scan", "--no-config", "-f", "json", path]);
        let v: Value = serde_json::from_str(&out).expect(&err);
        let findings = v["findings"].as_array().unwrap().clone();
        assert!(findings.iter().all(|f| f["rule"] != "YAML002"), "{path}");
        findings.len()
    };
    let insecure = count("examples/insecure");
    assert_eq!(count("examples/hardened"), 0);
    assert_eq!(count("examples/"), insecure);
    assert_eq!(insecure, 101, "the README says 101");
}

const PSS_NAMESPACE: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: v1
kind: Pod
metadata: {name: root, namespace: shop}
spec:
  containers: [{name: app, image: app}]
";

#[test]
fn pss_suggest_warns_when_weaker_than_the_label_in_force() {
    let dir = files(&[("ns.yaml", PSS_NAMESPACE)]);
    let (code, out, err) = run(dir.path(), &["pss", "suggest", "ns.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(
            "namespace shop: baseline:v1.37 (1 workload), enforces restricted:latest now\n"
        ),
        "{out}"
    );
    assert_eq!(
        err,
        "warning: ns.yaml:6:5: namespace shop: the suggestion baseline:v1.37 is weaker than \
         restricted:latest, which its labels enforce now: applying it would loosen the \
         namespace; fix the workloads that restricted:latest denies instead\n"
    );
    let (_, out, _) = run(dir.path(), &["pss", "suggest", "ns.yaml", "-f", "json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["weakerThanCurrent"], true);

    // A suggestion as strict as the label says nothing.
    let compliant = PSS_NAMESPACE.replace("restricted", "baseline");
    let dir = files(&[("ns.yaml", &compliant)]);
    let (code, _, err) = run(dir.path(), &["pss", "suggest", "ns.yaml"]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn pss_version_without_level_uses_the_default_level() {
    let dir = files(&[("ns.yaml", PSS_NAMESPACE)]);
    // The default level is restricted: judged at restricted:v1.24 instead of the labels.
    let (code, out, err) = run(dir.path(), &["pss", "ns.yaml", "--version", "v1.24"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.starts_with(
            "ns.yaml:8: Pod shop/root: denied: violates PodSecurity \"restricted:v1.24\""
        ),
        "{out}"
    );
    // With --default-level, that one.
    let (code, out, err) = run(
        dir.path(),
        &[
            "pss",
            "ns.yaml",
            "--version",
            "v1.24",
            "--default-level",
            "baseline",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("ns.yaml:8: Pod shop/root: allowed (baseline:v1.24)\n"),
        "{out}"
    );
}
