//! `palisade serve --cluster` against the test API server over loopback TLS: admission gives
//! the findings `palisade scan` gives on the cluster's objects plus the admitted one, and a
//! change in the cluster (a default-deny NetworkPolicy) changes the next review's findings.
//! Without `--cluster`, `/readyz` names the rules that cannot run.
#![cfg(unix)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use palisade_testserver::TestServer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::{json, Value};

type Tls = StreamOwned<ClientConnection, TcpStream>;

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

/// A running `palisade serve` and a TLS configuration that trusts it.
struct Server {
    child: Child,
    addr: SocketAddr,
    tls: Arc<ClientConfig>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    body: String,
}

fn start(dir: &Path, extra: &[&str]) -> Server {
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    // Every finding goes to the audit annotation, one `ID at field` each.
    let webhook = dir.join("webhook.yaml");
    std::fs::write(&webhook, "webhook:\n  mode: audit\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--no-config", "--self-signed", "127.0.0.1"])
        .args(["--addr", &addr.to_string()])
        .arg("--webhook-config")
        .arg(&webhook)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut bundle = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut bundle)
        .unwrap();
    let ca = base64::engine::general_purpose::STANDARD
        .decode(bundle.trim())
        .expect("the CA bundle is base64");
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = Server {
        child,
        addr,
        tls: Arc::new(tls),
    };
    wait_for("/healthz", || {
        server.get("/healthz").ok().filter(|a| a.status == 200)
    });
    server
}

impl Server {
    fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<Answer> {
        let tcp = TcpStream::connect(self.addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let connection = ClientConnection::new(self.tls.clone(), name)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let mut tls: Tls = StreamOwned::new(connection, tcp);
        let request = format!(
            "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(request.as_bytes())?;
        tls.flush()?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            if tls.read(&mut byte)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        tls.read_exact(&mut body)?;
        Ok(Answer {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    fn get(&self, path: &str) -> std::io::Result<Answer> {
        self.request("GET", path, "")
    }

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
