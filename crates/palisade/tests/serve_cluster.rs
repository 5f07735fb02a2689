//! `palisade serve --cluster` against the test API server over loopback TLS: admission gives
//! the findings `palisade scan` gives on the cluster's objects plus the admitted one, and a
//! change in the cluster (a default-deny NetworkPolicy) changes the next review's findings.
//! Without `--cluster`, `/readyz` names the rules that cannot run.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use palisade_testserver::TestServer;
use serde_json::{json, Value};

mod serve_process;
use serve_process::Server;

/// The cluster: a namespace without Pod Security labels whose default service account a Role
/// binds, and a locked namespace (restricted, default deny).
const OBJECTS: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: default
  namespace: shop
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: deployer
  namespace: shop
rules:
- apiGroups: [""]
  resources: ["pods", "secrets"]
  verbs: ["get", "list", "create"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: deployer
  namespace: shop
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: deployer
subjects:
- kind: ServiceAccount
  name: default
  namespace: shop
---
apiVersion: v1
kind: Namespace
metadata:
  name: locked
  labels:
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: locked
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#;

fn start(dir: &Path, extra: &[&str]) -> Server {
    // Every finding goes to the audit annotation, one `ID at field` each.
    let webhook = dir.join("webhook.yaml");
    std::fs::write(&webhook, "webhook:\n  mode: audit\n").unwrap();
    let webhook = webhook.to_str().unwrap();
    let args = [&["--no-config", "--webhook-config", webhook], extra].concat();
    serve_process::start(&args, Stdio::null())
}

impl Server {
    /// The findings of a review of `pod` (CREATE), as `ID at field`.
    fn findings(&self, pod: &Value) -> BTreeSet<String> {
        let review = json!({
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": "u1",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": pod["metadata"]["namespace"],
                "operation": "CREATE",
                "userInfo": {"username": "alice"},
                "object": pod,
            },
        });
        let answer = self
            .request("POST", "/validate", &review.to_string())
            .unwrap();
        assert_eq!(answer.status, 200, "{}", answer.body);
        let answer: Value = serde_json::from_str(&answer.body).unwrap();
        let response = &answer["response"];
        assert_eq!(response["allowed"], true, "{response}");
        response["auditAnnotations"]["findings"]
            .as_str()
            .unwrap_or("")
            .split("; ")
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A JSON pointer as the webhook names a field: `/spec/containers/0/image` →
/// `spec.containers[0].image`.
fn field(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// The findings of `palisade scan` on `objects` and `pod` (last) as files, for the pod.
fn scan_findings(dir: &Path, objects: &str, pod: &Value) -> BTreeSet<String> {
    let file = dir.join("cluster.yaml");
    std::fs::write(&file, format!("{objects}---\n{pod}\n")).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--no-config", "-f", "json"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["object"]["kind"] == "Pod" && f["object"]["name"] == pod["metadata"]["name"])
        .map(|f| {
            format!(
                "{} at {}",
                f["rule"].as_str().unwrap(),
                field(f["pointer"].as_str().unwrap())
            )
        })
        .collect()
}

fn pod(namespace: &str, privileged: bool) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"containers": [{
            "name": "web",
            "image": "nginx:1.27",
            "securityContext": {"privileged": privileged},
        }]},
    })
}

#[test]
fn admission_with_the_cluster_state_gives_the_findings_of_scan_and_follows_changes() {
    let cluster = TestServer::builder()
        .fixture_str(OBJECTS)
        .unwrap()
        .bookmark_interval(Duration::from_millis(200))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig).unwrap();
    let server = start(
        dir.path(),
        &["--cluster", "--kubeconfig", kubeconfig.to_str().unwrap()],
    );
    let ready = wait_for("/readyz", || {
        server.get("/readyz").ok().filter(|a| a.status == 200)
    });
    assert!(
        ready.body.contains("cluster state: synced"),
        "{}",
        ready.body
    );

    // A privileged pod in a namespace without a default deny, whose default service account
    // the Role binds; a restricted pod in the locked namespace (Pod Security findings merged
    // into the POD findings of the same field).
    for pod in [pod("shop", true), pod("locked", false)] {
        let admitted = server.findings(&pod);
        let scanned = scan_findings(dir.path(), OBJECTS, &pod);
        assert_eq!(admitted, scanned, "{pod}");
    }
    let shop = pod("shop", true);
    let before = server.findings(&shop);
    for inventory in [
        "NET001 at metadata.namespace",
        "NET002 at metadata.namespace",
    ] {
        assert!(before.contains(inventory), "{before:?}");
    }

    // A default deny in `shop`, added on the server, reaches the cache through the watch.
    let deny = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    });
    assert!(cluster.apply(deny.clone()));
    let after = wait_for("the watch event", || {
        let findings = server.findings(&shop);
        (findings != before).then_some(findings)
    });
    assert!(!after.iter().any(|f| f.starts_with("NET00")), "{after:?}");
    let with_deny = format!("{OBJECTS}---\n{deny}\n");
    assert_eq!(after, scan_findings(dir.path(), &with_deny, &shop));
}

#[test]
fn without_the_cluster_readyz_names_the_rules_that_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[]);
    let ready = server.get("/readyz").unwrap();
    assert_eq!(ready.status, 200);
    assert!(ready.body.contains("no cluster access"), "{}", ready.body);
    for rule in ["NET001", "NS001", "RBAC001", "POD017"] {
        assert!(ready.body.contains(rule), "{}", ready.body);
    }
    // Per-object rules still run.
    let findings = server.findings(&pod("shop", true));
    assert!(findings.contains("POD001 at spec.containers[0].securityContext.privileged"));
    assert!(
        !findings.iter().any(|f| f.starts_with("NET00")),
        "{findings:?}"
    );
}

#[test]
fn a_cluster_that_cannot_be_reached_leaves_serve_running_and_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // A kubeconfig for a server that is gone.
    let gone = TestServer::builder().start();
    gone.write_kubeconfig(&kubeconfig).unwrap();
    drop(gone);
    let server = start(
        dir.path(),
        &["--cluster", "--kubeconfig", kubeconfig.to_str().unwrap()],
    );
    let answer = wait_for("an error in /readyz", || {
        server
            .get("/readyz")
            .ok()
            .filter(|a| a.body.contains("last error"))
    });
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(answer.body.contains("NET001"), "{}", answer.body);
    // Reviews are answered from what is known: the per-object rules, with a warning.
    let findings = server.findings(&pod("shop", true));
    assert!(findings.contains("POD001 at spec.containers[0].securityContext.privileged"));
}
