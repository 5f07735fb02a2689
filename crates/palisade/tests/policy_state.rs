//! `palisade scan` reviews objects against policies as it decodes them; a review that reads
//! other objects of the input (`data.inventory`, the object's Namespace, parameter objects)
//! waits for the end of the scan. These tests put what such reviews read in other files than
//! the object, before and after it, and check the findings are those of a review against the
//! whole input, from files and from standard input alike.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;

fn scan(dir: &Path, args: &[&str], stdin: Option<&str>) -> (i32, Vec<(String, String, String)>) {
    let mut child = Command::new(cargo_bin("palisade"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .args(["scan", "--no-config", "--select", "POL001", "-f", "json"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palisade runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("palisade ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr).into_owned()
        )
    });
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let found = doc["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| (text(&f["file"]), text(&f["policy"]), text(&f["message"])))
        .collect();
    (out.status.code().unwrap_or(-1), found)
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write");
}

/// A template whose Rego reads `data.inventory`: two Services may not share an `app` label.
const UNIQUE_APP: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8suniqueapp
spec:
  crd:
    spec:
      names:
        kind: K8sUniqueApp
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8suniqueapp
        violation[{"msg": msg}] {
          app := input.review.object.metadata.labels.app
          other := data.inventory.namespace[_][_]["Service"][name]
          name != input.review.object.metadata.name
          other.metadata.labels.app == app
          msg := sprintf("app %v is also Service %v", [app, name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUniqueApp
metadata:
  name: unique-app
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Service"]
"#;

/// A template that reads nothing but the object, with a constraint on the Pods of the
/// Namespaces labelled `env: prod`.
const NO_LATEST: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8snolatest
spec:
  crd:
    spec:
      names:
        kind: K8sNoLatest
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snolatest
        violation[{"msg": msg}] {
          c := input.review.object.spec.containers[_]
          endswith(c.image, ":latest")
          msg := sprintf("%v uses latest", [c.name])
        }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoLatest
metadata:
  name: prod-no-latest
spec:
  match:
    kinds:
      - apiGroups: [""]
        kinds: ["Pod"]
    namespaceSelector:
      matchLabels:
        env: prod
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoLatest
metadata:
  name: everywhere-no-latest
spec:
  enforcementAction: warn
"#;

/// A ValidatingAdmissionPolicy whose binding reads a ConfigMap as its parameters.
const MAX_REPLICAS: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: max-replicas
spec:
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE"]
        resources: ["deployments"]
  validations:
    - expression: "object.spec.replicas <= int(params.data.max)"
      messageExpression: "'at most ' + params.data.max + ' replicas'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: max-replicas
spec:
  policyName: max-replicas
  validationActions: [Deny]
  paramRef:
    name: limits
    namespace: shop
"#;

const PODS: &str = "apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
spec:
  containers:
    - name: web
      image: nginx:latest
---
apiVersion: v1
kind: Pod
metadata:
  name: db
  namespace: dev
spec:
  containers:
    - name: db
      image: postgres:latest
";

const SERVICES_A: &str = "apiVersion: v1
kind: Service
metadata:
  name: front
  namespace: shop
  labels:
    app: web
spec:
  ports: [{port: 80}]
";

const SERVICES_Z: &str = "apiVersion: v1
kind: Service
metadata:
  name: front-2
  namespace: shop
  labels:
    app: web
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata:
  name: alone
  namespace: shop
  labels:
    app: alone
spec:
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: big
  namespace: shop
spec:
  replicas: 9
  selector: {matchLabels: {app: big}}
  template:
    metadata: {labels: {app: big}}
    spec:
      containers: [{name: big, image: big:1}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels:
    env: prod
---
apiVersion: v1
kind: Namespace
metadata:
  name: dev
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: limits
  namespace: shop
data:
  max: \"3\"
";

fn expected() -> Vec<(String, String, String)> {
    let f = |file: &str, policy: &str, message: &str| {
        (file.to_owned(), policy.to_owned(), message.to_owned())
    };
    let mut found = vec![
        f(
            "a-services.yaml",
            "K8sUniqueApp/unique-app",
            "app web is also Service front-2",
        ),
        f(
            "b-pods.yaml",
            "K8sNoLatest/prod-no-latest",
            "web uses latest",
        ),
        f(
            "b-pods.yaml",
            "K8sNoLatest/everywhere-no-latest",
            "web uses latest",
        ),
        f(
            "b-pods.yaml",
            "K8sNoLatest/everywhere-no-latest",
            "db uses latest",
        ),
        f(
            "z-services.yaml",
            "K8sUniqueApp/unique-app",
            "app web is also Service front",
        ),
        f(
            "z-services.yaml",
            "ValidatingAdmissionPolicyBinding/max-replicas",
            "at most 3 replicas",
        ),
    ];
    found.sort();
    found
}

fn sorted(mut found: Vec<(String, String, String)>) -> Vec<(String, String, String)> {
    found.sort();
    found
}

#[test]
fn reviews_that_read_other_objects_see_the_whole_input_wherever_it_is() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a-services.yaml", SERVICES_A);
    write(dir.path(), "b-pods.yaml", PODS);
    write(dir.path(), "m-unique.yaml", UNIQUE_APP);
    write(dir.path(), "n-latest.yaml", NO_LATEST);
    write(dir.path(), "p-replicas.yaml", MAX_REPLICAS);
    write(dir.path(), "z-services.yaml", SERVICES_Z);
    let (code, found) = scan(dir.path(), &["."], None);
    assert_eq!(code, 1, "{found:#?}");
    assert_eq!(sorted(found), expected());
}

#[test]
fn policies_and_objects_on_standard_input_are_reviewed_with_the_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    write(dir.path(), "a-services.yaml", SERVICES_A);
    write(dir.path(), "b-pods.yaml", PODS);
    write(dir.path(), "z-services.yaml", SERVICES_Z);
    // The policies come only from standard input; they apply to the files too.
    let policies = format!("{UNIQUE_APP}---\n{NO_LATEST}---\n{MAX_REPLICAS}");
    let (code, found) = scan(
        dir.path(),
        &["a-services.yaml", "b-pods.yaml", "z-services.yaml", "-"],
        Some(&policies),
    );
    assert_eq!(code, 1, "{found:#?}");
    assert_eq!(sorted(found), expected());
}

#[test]
fn the_objects_of_policy_dirs_are_not_cluster_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).expect("mkdir");
    write(&policies, "unique.yaml", UNIQUE_APP);
    // A sample next to the policy: not an object of the cluster.
    write(&policies, "sample.yaml", SERVICES_A);
    write(dir.path(), "services.yaml", SERVICES_Z);
    let (code, found) = scan(dir.path(), &["services.yaml", "--policy", "policies"], None);
    assert_eq!(code, 0, "{found:#?}");
    assert_eq!(found, []);
}
