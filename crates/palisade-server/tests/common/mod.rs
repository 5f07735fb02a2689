//! Shared helpers: a real server on a loopback port with a generated certificate, a client that
//! trusts its CA, and AdmissionReview builders.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use palisade_rules::Config;
use palisade_server::{
    self_signed, start, LogSink, Running, SelfSigned, ServerConfig, State, TlsSource, WebhookConfig,
};
use serde_json::{json, Value};

/// The DNS name the test certificates are issued for; the client resolves it to the server.
pub const HOST: &str = "palisade.test";

/// The rules the tests rely on: other rules come and go in the registry.
pub const RULES: &str = "select: [POD001, POD002, POD003, POD004, IMG001]\n";

pub struct TestServer {
    pub running: Running,
    pub addr: SocketAddr,
    pub cert: SelfSigned,
    pub client: reqwest::Client,
    pub logs: Arc<Mutex<Vec<u8>>>,
    pub state: Arc<State>,
}

pub fn state(rules: &str, webhook: &str) -> (Arc<State>, Arc<Mutex<Vec<u8>>>) {
    let (state, logs) = bare_state(rules, webhook);
    (Arc::new(state), logs)
}

/// A state the test may still change (limits, policies) before sharing it.
pub fn bare_state(rules: &str, webhook: &str) -> (State, Arc<Mutex<Vec<u8>>>) {
    let config = Config::parse(rules, "rules.yaml").expect("rules config");
    let webhook = WebhookConfig::parse(webhook, "webhook.yaml").expect("webhook config");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let state = State::new(
        config,
        Vec::new(),
        Vec::new(),
        webhook,
        LogSink::buffer(logs.clone()),
    )
    .expect("state");
    (state, logs)
}

pub fn client(ca_pem: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("CA"))
        .resolve(HOST, addr)
        .no_proxy()
        .build()
        .expect("client")
}

pub fn certificate() -> SelfSigned {
    self_signed(&[HOST.to_owned()]).expect("certificate")
}

/// Starts a server with a generated certificate; `adjust` changes the server configuration.
pub async fn serve_with(
    rules: &str,
    webhook: &str,
    adjust: impl FnOnce(&mut ServerConfig),
) -> TestServer {
    let (state, logs) = state(rules, webhook);
    serve_state(state, logs, adjust).await
}

/// Starts a server for a state built by the test (policies, limits).
pub async fn serve_state(
    state: Arc<State>,
    logs: Arc<Mutex<Vec<u8>>>,
    adjust: impl FnOnce(&mut ServerConfig),
) -> TestServer {
    let cert = certificate();
    let mut config = ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        TlsSource::Pem {
            cert: cert.cert_pem.clone(),
            key: cert.key_pem.clone(),
        },
    );
    adjust(&mut config);
    let running = start(config, state.clone()).await.expect("server starts");
    let addr = running.local_addr();
    TestServer {
        client: client(&cert.ca_pem, addr),
        running,
        addr,
        cert,
        logs,
        state,
    }
}

pub async fn serve(rules: &str, webhook: &str) -> TestServer {
    serve_with(rules, webhook, |_| {}).await
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("https://{HOST}:{}{path}", self.addr.port())
    }

    /// POSTs a review and returns the HTTP status and the JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(path, body.to_string().into_bytes()).await
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!("response is not JSON: {}", String::from_utf8_lossy(&bytes))
        });
        (status, value)
    }

    /// The `response` of a review that must succeed at the HTTP level.
    pub async fn validate(&self, review: &Value) -> Value {
        self.answer("/validate", review).await
    }

    pub async fn mutate(&self, review: &Value) -> Value {
        self.answer("/mutate", review).await
    }

    async fn answer(&self, path: &str, review: &Value) -> Value {
        let (status, body) = self.post(path, review).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(body["kind"], "AdmissionReview");
        assert_eq!(body["response"]["uid"], review["request"]["uid"]);
        body["response"].clone()
    }

    /// The log lines, with the review lines' `findings` (a JSON array written as a string)
    /// decoded.
    pub fn log_lines(&self) -> Vec<Value> {
        let bytes = self.logs.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| {
                let mut line: Value = serde_json::from_str(l).expect("log line is JSON");
                if let Some(text) = line["findings"].as_str() {
                    line["findings"] = serde_json::from_str(text).expect("findings are JSON");
                }
                line
            })
            .collect()
    }
}

/// An AdmissionReview for `object` (CREATE unless `old` is given, then UPDATE).
pub fn review(uid: &str, object: Value, old: Option<Value>) -> Value {
    let kind = object["kind"].as_str().unwrap_or("Pod").to_owned();
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("team-a")
        .to_owned();
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    let group = match object["apiVersion"].as_str() {
        Some("apps/v1") => "apps",
        _ => "",
    };
    let operation = if old.is_some() { "UPDATE" } else { "CREATE" };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": group, "version": "v1", "kind": kind},
            "resource": {"group": group, "version": "v1", "resource": format!("{}s", kind.to_lowercase())},
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": old,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// A container that passes the rules of [`RULES`].
pub fn good_container(name: &str) -> Value {
    json!({
        "name": name,
        "image": "registry.example.com/app:1.4.2",
        "securityContext": {"allowPrivilegeEscalation": false},
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"}
        }
    })
}

pub fn pod(name: &str, containers: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "team-a"},
        "spec": {"containers": containers}
    })
}

pub fn deployment(name: &str, containers: Vec<Value>) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "team-a", "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": containers}
            }
        }
    })
}

/// A privileged container (POD001) that is otherwise fine.
pub fn privileged_container(name: &str) -> Value {
    let mut c = good_container(name);
    c["securityContext"]["privileged"] = json!(true);
    c
}

pub fn warnings(response: &Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A TLS connection without an HTTP client, to misbehave at will.
pub async fn raw_tls(
    addr: SocketAddr,
    ca_pem: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(rustls::pki_types::ServerName::try_from(HOST).unwrap(), tcp)
        .await
        .unwrap()
}
