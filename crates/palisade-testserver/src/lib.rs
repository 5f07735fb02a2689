//! A Kubernetes API server for tests, over HTTPS on loopback.
//!
//! It serves discovery (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`; the legacy
//! documents, which clients that ask for aggregated discovery fall back to), gets and lists of
//! namespaced and cluster-scoped resources with `limit`/`continue` paging and resource
//! versions, and `watch=true` streams with bookmarks and `410 Gone` for a resource version
//! older than its history. Objects come from YAML fixtures, decoded by palisade-core's loader,
//! and change through [`TestServer::apply`] and [`TestServer::delete`]. Faults can be injected
//! per resource type: `429` with `Retry-After`, `403`, `500`, slow responses and connections
//! reset in the middle of a response. [`TestServer::kubeconfig`] gives a kubeconfig that
//! trusts the server's CA and authenticates with a bearer token or a client certificate, for
//! kube-rs and for the real `kubectl`.

mod controllers;
mod http;
mod resources;
mod store;
mod tls;
// Writes, pod logs and their faults (palisade isolate).
mod writes;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};

pub use resources::Resource;
use store::Store;
pub use store::{Event, EventType, COMPACTED};

/// How clients authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Bearer <token>`; other requests get `401`.
    Token(String),
    /// A client certificate signed by the server's CA; the TLS handshake refuses others.
    ClientCert,
}

/// Faults injected per resource type. A resource is named by its plural (`pods`), plural and
/// group (`deployments.apps`) or kind (`Pod`); `*` names every resource type.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Answered `403 Forbidden`.
    pub forbidden: Vec<String>,
    /// The next `count` requests are answered `429 Too Many Requests` with `Retry-After`.
    pub throttled: Vec<Throttle>,
    /// The next `count` requests are answered `500 Internal Server Error`.
    pub failing: Vec<(String, u32)>,
    /// Every response waits this long before its headers.
    pub slow: Vec<(String, Duration)>,
    /// The next `count` responses are cut: the connection is reset in the middle of the body.
    pub reset: Vec<(String, u32)>,
    /// API groups whose discovery document answers `503`, as an aggregated API whose backend
    /// is down (`metrics.k8s.io` without its metrics server).
    pub unavailable_groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Throttle {
    pub resource: String,
    pub count: u32,
    pub retry_after_secs: u64,
}

/// One request the server received, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// The `Accept` header.
    pub accept: Option<String>,
}

/// The state the handlers share.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub faults: Mutex<Faults>,
    pub requests: Mutex<Vec<Request>>,
    pub auth: Auth,
    pub bookmark_interval: Duration,
    pub addr: Mutex<Option<SocketAddr>>,
    pub writes: Mutex<writes::WriteState>,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sets up a [`TestServer`].
#[derive(Debug)]
pub struct Builder {
    objects: Vec<Value>,
    auth: Auth,
    without: Vec<String>,
    bookmark_interval: Duration,
    replicas: Option<usize>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            objects: Vec::new(),
            auth: Auth::Token("palisade-test-token".to_owned()),
            without: Vec::new(),
            bookmark_interval: Duration::from_secs(1),
            replicas: None,
        }
    }
}

/// A fixture that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FixtureError(String);

impl Builder {
    /// Serves the objects of a YAML or JSON file; any decoding error is an error.
    pub fn fixture(mut self, path: &Path) -> Result<Self, FixtureError> {
        let display = path.display().to_string();
        let loaded = palisade_core::load_path(path, &display, &palisade_core::Limits::default());
        if let Some(error) = loaded.errors.first() {
            return Err(FixtureError(error.to_string()));
        }
        self.objects
            .extend(loaded.objects.into_iter().map(|o| o.value));
        Ok(self)
    }

    /// Serves the objects of a YAML text; any decoding error is an error.
    pub fn fixture_str(mut self, text: &str) -> Result<Self, FixtureError> {
        let loaded = palisade_core::load_str(text, "fixture", &palisade_core::Limits::default());
        if let Some(error) = loaded.errors.first() {
            return Err(FixtureError(error.to_string()));
        }
        self.objects
            .extend(loaded.objects.into_iter().map(|o| o.value));
        Ok(self)
    }

    /// Serves the objects of every `.yaml`, `.yml` and `.json` file under `dir`; files that do
    /// not decode are skipped. Returns the builder and the number of files skipped.
    pub fn corpus(mut self, dir: &Path) -> (Self, usize) {
        let mut skipped = 0;
        let mut files = Vec::new();
        walk(dir, &mut files);
        files.sort();
        for path in files {
            let display = path.display().to_string();
            let loaded =
                palisade_core::load_path(&path, &display, &palisade_core::Limits::default());
            if loaded.errors.is_empty() {
                self.objects
                    .extend(loaded.objects.into_iter().map(|o| o.value));
            } else {
                skipped += 1;
            }
        }
        (self, skipped)
    }

    /// Serves one object.
    pub fn object(mut self, object: Value) -> Self {
        self.objects.push(object);
        self
    }

    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Does not serve this resource type (discovery leaves it out, its URLs are `404`).
    pub fn without(mut self, resource: &str) -> Self {
        self.without.push(resource.to_owned());
        self
    }

    /// How often watches that allow bookmarks get one.
    pub fn bookmark_interval(mut self, interval: Duration) -> Self {
        self.bookmark_interval = interval;
        self
    }

    /// Creates what the controllers would: for each Deployment a ReplicaSet, and for each
    /// ReplicaSet, StatefulSet, Job (`replicas` of each) and DaemonSet (one) its Pods, made from
    /// the template and owned by it (`ownerReferences` with `controller: true`).
    pub fn controllers(mut self, replicas: usize) -> Self {
        self.replicas = Some(replicas);
        self
    }

    /// Starts the server on a loopback port, on a runtime of its own.
    pub fn start(self) -> TestServer {
        let mut store = Store::new(&self.without);
        for object in self.objects {
            store.put(object);
        }
        if let Some(replicas) = self.replicas {
            controllers::run(&mut store, replicas);
        }
        let pki = tls::Pki::generate();
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(Vec::new()),
            auth: self.auth,
            bookmark_interval: self.bookmark_interval,
            addr: Mutex::new(None),
            writes: Mutex::new(writes::WriteState::default()),
        });
        let running = http::spawn(shared.clone(), &pki);
        TestServer {
            addr: running.addr,
            pki,
            shared,
            running: Some(running),
        }
    }
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            files.push(path);
        }
    }
}

/// A running test API server; it stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    pki: tls::Pki,
    shared: Arc<Shared>,
    running: Option<http::Running>,
}

impl TestServer {
    pub fn builder() -> Builder {
        Builder::default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA that signed the serving (and client) certificates, in PEM.
    pub fn ca_pem(&self) -> &str {
        &self.pki.ca_pem
    }

    /// A kubeconfig (JSON, which is YAML) with one context, `palisade-test`, that trusts the
    /// server's CA and authenticates as the server expects.
    pub fn kubeconfig(&self) -> String {
        let b64 = |text: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(text)
        };
        let user = match &self.shared.auth {
            Auth::Token(token) => json!({"token": token}),
            Auth::ClientCert => json!({
                "client-certificate-data": b64(&self.pki.client_cert_pem),
                "client-key-data": b64(&self.pki.client_key_pem),
            }),
        };
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "palisade-test", "cluster": {
                "server": self.url(),
                "certificate-authority-data": b64(&self.pki.ca_pem),
            }}],
            "users": [{"name": "palisade-test", "user": user}],
            "contexts": [{"name": "palisade-test", "context": {
                "cluster": "palisade-test", "user": "palisade-test",
            }}],
            "current-context": "palisade-test",
            "preferences": {},
        });
        serde_json::to_string_pretty(&config).unwrap_or_default()
    }

    /// Writes [`TestServer::kubeconfig`] to `path`.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// Creates or replaces an object (a watch event). Returns false when it is not served.
    pub fn apply(&self, object: Value) -> bool {
        lock(&self.shared.store).put(object).is_some()
    }

    /// Deletes an object of the resource type named as in [`Faults`] (a watch event).
    pub fn delete(&self, resource: &str, namespace: Option<&str>, name: &str) -> bool {
        let mut store = lock(&self.shared.store);
        let Some(index) = store
            .resources
            .iter()
            .position(|r| store::matches_name(r, resource))
        else {
            return false;
        };
        store.delete(index, namespace.unwrap_or(""), name)
    }

    /// Forgets the change history: a watch or a `continue` from an earlier resource version
    /// then gets `410 Gone`. Open watches end.
    pub fn compact(&self) {
        lock(&self.shared.store).compact();
    }

    /// Every change from now on (those of clients' writes too), as watches see it, when it is
    /// stored: for benchmarks that time what a client writes. A compaction is an event of
    /// resource [`COMPACTED`].
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Event> {
        lock(&self.shared.store).events.subscribe()
    }

    /// The current resource version.
    pub fn resource_version(&self) -> u64 {
        lock(&self.shared.store).rv
    }

    /// Every object served, as stored (with `apiVersion`, `kind`, uid and resource version),
    /// by resource type then namespace and name.
    pub fn objects(&self) -> Vec<Value> {
        let store = lock(&self.shared.store);
        store
            .objects
            .iter()
            .flat_map(|m| m.values().map(|o| Value::clone(o)))
            .collect()
    }

    /// The resource types served.
    pub fn resources(&self) -> Vec<Resource> {
        lock(&self.shared.store).resources.clone()
    }

    /// Changes the injected faults.
    pub fn faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.shared.faults)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}
