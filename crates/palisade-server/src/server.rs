//! The HTTPS server: routes, body limit, timeouts, bounded concurrency, certificate reload and
//! a graceful drain on shutdown.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State as Shared};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_server::accept::Accept;
use axum_server::tls::TlsInfo;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::Handle;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use rustls::RootCertStore;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::auth::{Access, AuthConfig};
use crate::log::capped;
use crate::review::{review, Endpoint, Reply, State};
use crate::tls::{self, CertFiles, TlsError};

/// Where the serving certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// PEM files, reloaded when they change.
    Files(CertFiles),
    /// PEM text in memory (a generated certificate).
    Pem { cert: String, key: String },
}

/// How the server listens and protects itself.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    pub tls: TlsSource,
    /// CA certificates that sign the client certificates callers may present.
    pub client_ca: Option<Arc<RootCertStore>>,
    /// Which endpoints need an authenticated caller, and who that may be.
    pub auth: AuthConfig,
    /// Serve `/metrics` (with `/healthz` and `/readyz`) on this address instead of the webhook's,
    /// so that a NetworkPolicy can admit the monitoring system to it alone.
    pub metrics_addr: Option<SocketAddr>,
    /// Largest request body accepted (413 beyond).
    pub body_limit: usize,
    /// Time allowed to receive a request body after its headers (408 beyond).
    pub body_timeout: Duration,
    /// Time allowed for a new connection's TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed for a request's headers, and for the first request of a connection.
    pub header_timeout: Duration,
    /// How often the certificate files and the policy files are checked for changes.
    pub reload_interval: Duration,
    /// How long the server keeps serving after a shutdown signal, answering not-ready on
    /// `/readyz`, so that load balancers stop sending before it stops accepting.
    pub drain: Duration,
    /// How long requests already received may still run once the server stops accepting.
    pub shutdown_grace: Duration,
    /// Most admission requests read or reviewed at once; others wait for a place (503 when
    /// none frees up within `queue_timeout`). Bounds memory: each holds at most one body.
    pub max_in_flight: usize,
    /// How long a request waits for a place among `max_in_flight`.
    pub queue_timeout: Duration,
    /// Most reviews computed at once (on threads of their own, so that health checks and
    /// metrics are answered while reviews run).
    pub review_threads: usize,
    /// Batches of audit events (`POST /audit`) waiting for evaluation; beyond, a batch is dropped
    /// and counted, never waited for.
    pub audit_queue: usize,
    /// Where the alerts on audit events go, as JSON lines in Falco's format.
    pub audit_output: AuditOutput,
}

/// Where `/audit` writes its alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditOutput {
    Stdout,
    /// Appended to this file.
    File(std::path::PathBuf),
}

impl ServerConfig {
    /// The defaults: 6 MiB bodies (an object and its old version at the API server's 3 MiB
    /// request limit), 10 s to read a body, 10 s for headers and handshakes, certificate checks
    /// every 5 s.
    pub fn new(addr: SocketAddr, tls: TlsSource) -> ServerConfig {
        ServerConfig {
            addr,
            tls,
            client_ca: None,
            auth: AuthConfig::default(),
            metrics_addr: None,
            body_limit: 6 * 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            reload_interval: Duration::from_secs(5),
            drain: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
            max_in_flight: 16,
            queue_timeout: Duration::from_secs(2),
            review_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            audit_queue: 256,
            audit_output: AuditOutput::Stdout,
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
struct App {
    state: Arc<State>,
    body_limit: usize,
    body_timeout: Duration,
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    queue_timeout: Duration,
    reviews: Arc<Semaphore>,
    auth: Arc<AuthConfig>,
    audit: AuditQueue,
}

/// The limits of [`router`].
#[derive(Debug, Clone, Copy)]
pub struct RouterLimits {
    pub body_limit: usize,
    pub body_timeout: Duration,
    pub max_in_flight: usize,
    pub queue_timeout: Duration,
    pub review_threads: usize,
}

impl From<&ServerConfig> for RouterLimits {
    fn from(config: &ServerConfig) -> RouterLimits {
        RouterLimits {
            body_limit: config.body_limit,
            body_timeout: config.body_timeout,
            max_in_flight: config.max_in_flight,
            queue_timeout: config.queue_timeout,
            review_threads: config.review_threads,
        }
    }
}

/// A running server.
pub struct Running {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    /// The webhook's listener, then the metrics listener if any.
    handles: Vec<Handle<SocketAddr>>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
    watcher: Option<JoinHandle<()>>,
    /// Checks the policy files for changes.
    policy_watcher: Option<JoinHandle<()>>,
    state: Arc<State>,
    drain: Duration,
    grace: Duration,
}

impl Running {
    /// The address it listens on (the real port when the configuration asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address `/metrics` is served on when it has a listener of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Reports not-ready and keeps serving for the drain period, then stops accepting
    /// connections, lets requests already received finish within the grace period, and returns
    /// when the server has stopped.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.state.set_ready(false);
        tokio::time::sleep(self.drain).await;
        for handle in &self.handles {
            handle.graceful_shutdown(Some(self.grace));
        }
        for watcher in self.watcher.iter().chain(&self.policy_watcher) {
            watcher.abort();
        }
        for server in self.servers {
            server.await??;
        }
        Ok(())
    }
}

/// The routes, for embedding the webhook in another server or calling it in-process.
/// Alerts on `/audit` events go to standard output.
pub fn router(state: Arc<State>, limits: RouterLimits, auth: AuthConfig) -> Router {
    let audit = AuditQueue::start(state.clone(), 256, AuditOutput::Stdout);
    routes(App::new(state, limits, auth, audit), true)
}

impl App {
    fn new(state: Arc<State>, limits: RouterLimits, auth: AuthConfig, audit: AuditQueue) -> App {
        App {
            audit,
            state,
            body_limit: limits.body_limit,
            body_timeout: limits.body_timeout,
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            max_in_flight: limits.max_in_flight.max(1),
            queue_timeout: limits.queue_timeout,
            reviews: Arc::new(Semaphore::new(limits.review_threads.max(1))),
            auth: Arc::new(auth),
        }
    }
}

/// Health, readiness and, with `metrics`, the Prometheus metrics.
fn operations(metrics: bool) -> Router<App> {
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz));
    if metrics {
        router.route("/metrics", get(metrics_handler))
    } else {
        router
    }
}

/// The webhook's routes; `/metrics` only with `metrics` (else it is served on its own port).
fn routes(app: App, metrics: bool) -> Router {
    Router::new()
        .route(
            "/validate",
            post(|s: Shared<App>, r: Request| admission(Endpoint::Validate, s, r)),
        )
        .route(
            "/mutate",
            post(|s: Shared<App>, r: Request| admission(Endpoint::Mutate, s, r)),
        )
        .route("/audit", post(audit))
        .merge(operations(metrics))
        .fallback(|| async {
            json_response(
                StatusCode::NOT_FOUND,
                json!({ "error": "not found; the webhook serves /validate, /mutate and /audit" })
                    .to_string()
                    .into_bytes(),
            )
        })
        .with_state(app)
}

/// Loads the certificate, binds the address and starts serving in the background.
pub async fn start(config: ServerConfig, state: Arc<State>) -> Result<Running, ServeError> {
    let tls_config = match &config.tls {
        TlsSource::Files(files) => {
            tls::load_files(&files.cert, &files.key, config.client_ca.as_ref())?
        }
        TlsSource::Pem { cert, key } => {
            tls::server_config(cert.as_bytes(), key.as_bytes(), config.client_ca.as_ref())?
        }
    };
    let rustls = RustlsConfig::from_config(tls_config);
    let audit = AuditQueue::start(
        state.clone(),
        config.audit_queue,
        config.audit_output.clone(),
    );
    let app = App::new(
        state.clone(),
        RouterLimits::from(&config),
        config.auth.clone(),
        audit,
    );
    let (addr, handle, server) = listen(
        &config,
        config.addr,
        &rustls,
        &state,
        routes(app.clone(), config.metrics_addr.is_none()),
    )?;
    let mut handles = vec![handle];
    let mut servers = vec![server];
    let metrics_addr = match config.metrics_addr {
        Some(metrics_addr) => {
            let (bound, handle, server) = listen(
                &config,
                metrics_addr,
                &rustls,
                &state,
                operations(true).with_state(app),
            )?;
            handles.push(handle);
            servers.push(server);
            Some(bound)
        }
        None => None,
    };
    let watcher = match &config.tls {
        TlsSource::Files(files) => Some(tokio::spawn(tls::watch(
            files.clone(),
            config.client_ca.clone(),
            rustls,
            config.reload_interval,
            state.clone(),
        ))),
        TlsSource::Pem { .. } => None,
    };
    let policy_watcher = state
        .policies()
        .map(|_| tokio::spawn(watch_policies(state.clone(), config.reload_interval)));
    state.set_ready(true);
    state
        .log
        .emit(|| tracing::info!(addr = %addr, metrics_addr = ?metrics_addr, "listening"));
    Ok(Running {
        addr,
        metrics_addr,
        handles,
        servers,
        watcher,
        policy_watcher,
        state,
        drain: config.drain,
        grace: config.shutdown_grace,
    })
}

/// A listener serving in the background: its address, its handle and its task.
type Listener = (SocketAddr, Handle<SocketAddr>, JoinHandle<io::Result<()>>);

/// Binds `addr` and serves `router` over TLS there, in the background.
fn listen(
    config: &ServerConfig,
    addr: SocketAddr,
    rustls: &RustlsConfig,
    state: &Arc<State>,
    router: Router,
) -> Result<Listener, ServeError> {
    let bind = |source| ServeError::Bind { addr, source };
    let listener = std::net::TcpListener::bind(addr).map_err(bind)?;
    listener.set_nonblocking(true).map_err(bind)?;
    let bound = listener.local_addr().map_err(bind)?;
    let handle = Handle::new();
    let mut server = axum_server::from_tcp(listener)
        .map_err(bind)?
        .acceptor(
            RustlsAcceptor::new(rustls.clone())
                .handshake_timeout(config.handshake_timeout)
                .acceptor(Watching {
                    state: state.clone(),
                }),
        )
        .handle(handle.clone())
        .first_request_timeout(config.header_timeout);
    server
        .http_builder()
        .http1()
        .header_read_timeout(config.header_timeout);
    server
        .http_builder()
        .http2()
        .keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(10));
    let server = tokio::spawn(server.serve(router.into_make_service()));
    Ok((bound, handle, server))
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn serve(config: ServerConfig, state: Arc<State>) -> Result<(), ServeError> {
    let running = start(config, state.clone()).await?;
    shutdown_signal().await;
    let (drain, grace) = (running.drain, running.grace);
    state.log.emit(|| {
        tracing::info!(
            drain_ms = drain.as_millis() as u64,
            grace_ms = grace.as_millis() as u64,
            "shutting down: draining"
        )
    });
    running.shutdown().await?;
    state.log.emit(|| tracing::info!("stopped"));
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn admission(endpoint: Endpoint, Shared(app): Shared<App>, request: Request) -> Response {
    let reply = match tokio::time::timeout(app.queue_timeout, app.in_flight.clone().acquire_owned())
        .await
    {
        Ok(Ok(_place)) => read_and_review(endpoint, &app, request).await,
        _ => app.state.reject(
            endpoint,
            503,
            "busy",
            format!(
                "more than {} admission requests in progress; try again",
                app.max_in_flight
            ),
        ),
    };
    let mut response = json_response(
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        reply.body,
    );
    if !app.state.ready() {
        // Draining: ask HTTP/1.1 clients to open their next connection to another replica.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn read_and_review(endpoint: Endpoint, app: &App, request: Request) -> Reply {
    let state = &app.state;
    let bytes = match read_json(endpoint.as_str(), app, request).await {
        Ok(bytes) => bytes,
        Err(reply) => return reply,
    };
    // Reviews run on blocking threads, at most `review_threads` at once, so the runtime's
    // workers stay free for health checks, metrics and reading other requests.
    let Ok(_thread) = app.reviews.clone().acquire_owned().await else {
        return state.reject(endpoint, 503, "busy", "shutting down".to_owned());
    };
    let shared = state.clone();
    match tokio::task::spawn_blocking(move || review(&shared, endpoint, &bytes)).await {
        Ok(reply) => reply,
        Err(err) => state.reject(
            endpoint,
            500,
            "review_failed",
            format!("the review failed: {err}"),
        ),
    }
}

/// Reads a JSON request body within the body limit and timeout.
async fn read_json(endpoint: &'static str, app: &App, request: Request) -> Result<Vec<u8>, Reply> {
    let state = &app.state;
    let headers = request.headers();
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let json = kind
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(state.reject(
                endpoint,
                415,
                "bad_content_type",
                format!("content type {kind:?} is not application/json"),
            ));
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > app.body_limit as u64) {
        return Err(too_large(endpoint, app));
    }
    let body = Limited::new(request.into_body(), app.body_limit);
    let capacity = declared.map_or(0, |len| len as usize);
    match tokio::time::timeout(app.body_timeout, read_body(body, capacity)).await {
        Err(_) => Err(state.reject(
            endpoint,
            408,
            "body_timeout",
            format!(
                "the request body did not arrive within {} ms",
                app.body_timeout.as_millis()
            ),
        )),
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
            Err(too_large(endpoint, app))
        }
        Ok(Err(err)) => Err(state.reject(
            endpoint,
            400,
            "body_error",
            format!("cannot read the request body: {err}"),
        )),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}

/// Reads a body into one buffer, sized by the declared length when there is one, so that a
/// body is held once (not as chunks and then a copy).
async fn read_body(
    mut body: Limited<Body>,
    capacity: usize,
) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    let mut bytes = Vec::with_capacity(capacity);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

fn too_large(endpoint: &'static str, app: &App) -> Reply {
    app.state.reject(
        endpoint,
        413,
        "body_too_large",
        format!("the request body is larger than {} bytes", app.body_limit),
    )
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Checks the policy files every `interval` and reloads them when they changed.
async fn watch_policies(state: Arc<State>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let shared = state.clone();
        // Reading and compiling are blocking work: off the runtime's workers.
        let _ = tokio::task::spawn_blocking(move || shared.reload_policies()).await;
    }
}

/// 200 while serving, 503 while draining or before the cluster's state is synced; the details
/// say how far the sync got (or which rules cannot run without it) and, with policies, how many
/// are in force and the errors of a reload that failed.
async fn readyz(Shared(app): Shared<App>) -> Response {
    let (ready, details) = app.state.readiness();
    let details = if details.is_empty() {
        String::new()
    } else {
        format!("{details}\n")
    };
    if ready {
        (StatusCode::OK, format!("ready\n{details}")).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready\n{details}"),
        )
            .into_response()
    }
}

/// The caller's identity when the endpoint's access rule lets it in, else the 401 or 403 answer.
async fn authorize(
    endpoint: &'static str,
    access: Access,
    app: &App,
    request: &axum::http::request::Parts,
) -> Result<Option<String>, Response> {
    let tls = request.extensions.get::<Arc<TlsInfo>>();
    match app
        .auth
        .check(access, &request.headers, tls.map(|t| &**t))
        .await
    {
        Ok(identity) => Ok(identity),
        Err(refusal) => {
            let reply = app
                .state
                .reject(endpoint, refusal.status, refusal.reason, refusal.message);
            let mut response = json_response(
                StatusCode::from_u16(reply.status).unwrap_or(StatusCode::UNAUTHORIZED),
                reply.body,
            );
            if refusal.status == 401 {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Err(response)
        }
    }
}

/// The API server's audit webhook backend: `audit.k8s.io/v1` EventLists from an authenticated
/// sender. The events are counted, answered at once, and evaluated in the background.
async fn audit(Shared(app): Shared<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let identity = match authorize("audit", app.auth.audit, &app, &parts).await {
        Ok(identity) => identity,
        Err(response) => return response,
    };
    let request = Request::from_parts(parts, body);
    let Ok(_place) = app.in_flight.clone().try_acquire_owned() else {
        let reply = app.state.reject(
            "audit",
            503,
            "busy",
            "too many requests in progress; try again".to_owned(),
        );
        return json_response(StatusCode::SERVICE_UNAVAILABLE, reply.body);
    };
    let bytes = match read_json("audit", &app, request).await {
        Ok(bytes) => bytes,
        Err(reply) => {
            return json_response(
                StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_REQUEST),
                reply.body,
            )
        }
    };
    let events = match serde_json::from_slice::<EventList<'_>>(&bytes) {
        Ok(list) if list.api_version == "audit.k8s.io/v1" && list.kind == "EventList" => {
            list.items.len()
        }
        Ok(list) => {
            let reply = app.state.reject(
                "audit",
                400,
                "wrong_kind",
                format!(
                    "expected an audit.k8s.io/v1 EventList, got {} {}",
                    capped(&list.api_version),
                    capped(&list.kind)
                ),
            );
            return json_response(StatusCode::BAD_REQUEST, reply.body);
        }
        Err(err) => {
            let reply = app.state.reject(
                "audit",
                400,
                "bad_events",
                format!("not an audit EventList: {err}"),
            );
            return json_response(StatusCode::BAD_REQUEST, reply.body);
        }
    };
    app.state.metrics.audit_events(events as u64);
    let sender = identity.unwrap_or_default();
    app.state
        .log
        .emit(|| tracing::info!(events, sender = capped(&sender), "audit events received"));
    // Evaluated in the background: the API server's audit backend never waits for detections.
    if events > 0 && !app.audit.offer(bytes) {
        app.state.metrics.audit_dropped(events as u64);
        app.state.log.emit(|| {
            tracing::warn!(
                events,
                "audit evaluation queue full: events dropped unevaluated"
            )
        });
    }
    json_response(StatusCode::OK, b"{}".to_vec())
}

/// The bounded queue between `/audit` and the thread that evaluates its events.
#[derive(Clone)]
struct AuditQueue {
    sender: std::sync::mpsc::SyncSender<Vec<u8>>,
}

impl AuditQueue {
    /// Starts the evaluating thread; it ends when the last queue handle is dropped.
    fn start(state: Arc<State>, capacity: usize, output: AuditOutput) -> AuditQueue {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<u8>>(capacity.max(1));
        let spawned = std::thread::Builder::new()
            .name("palisade-audit".to_owned())
            .spawn(move || evaluate_audit(&state, &receiver, output));
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the audit evaluation thread");
        }
        AuditQueue { sender }
    }

    /// Queues a batch without waiting; false when the queue is full (or the thread is gone).
    fn offer(&self, body: Vec<u8>) -> bool {
        self.sender.try_send(body).is_ok()
    }
}

/// Evaluates each queued EventList: palisade's event rules and the per-object rules on request
/// objects, with the engine of the moment (reloads apply); alerts as JSON lines.
fn evaluate_audit(
    state: &State,
    receiver: &std::sync::mpsc::Receiver<Vec<u8>>,
    output: AuditOutput,
) {
    use std::io::Write as _;
    let mut out: Box<dyn std::io::Write> = match &output {
        AuditOutput::Stdout => Box::new(std::io::stdout()),
        AuditOutput::File(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            Ok(file) => Box::new(std::io::BufWriter::new(file)),
            Err(err) => {
                let path = path.display().to_string();
                state.log.emit(|| {
                    tracing::error!(%err, path, "cannot open the audit alerts file; alerts go to standard output")
                });
                Box::new(std::io::stdout())
            }
        },
    };
    let hostname = palisade_audit::rules::hostname();
    let mut runner = palisade_rules::rules::event::EventRunner::new(state.engine());
    while let Ok(body) = receiver.recv() {
        runner.set_engine(state.engine());
        let mut reader = std::io::Cursor::new(body);
        let mut evaluated = 0u64;
        palisade_audit::read_events(&mut reader, "POST /audit", &mut |item| {
            let palisade_audit::Item::Event(event) = item else {
                return;
            };
            evaluated += 1;
            for finding in runner.check(&event) {
                let alert = palisade_rules::rules::event::finding_alert(&event, finding, &hostname);
                state
                    .metrics
                    .audit_alert(&alert.rule, alert.priority.name());
                let _ = writeln!(out, "{}", alert.to_json());
            }
        });
        let _ = out.flush();
        state.metrics.audit_evaluated(evaluated);
    }
}

/// An `audit.k8s.io/v1` EventList, its events kept as raw JSON.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventList<'a> {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default, borrow)]
    items: Vec<&'a serde_json::value::RawValue>,
}

async fn metrics_handler(Shared(app): Shared<App>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if let Err(response) = authorize("metrics", app.auth.metrics, &app, &parts).await {
        return response;
    }
    app.state
        .metrics
        .dropped_logs(app.state.log.dropped_lines());
    let mut response = Response::new(Body::from(app.state.metrics.encode()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// Wraps each accepted connection so that a failure in transit (a client that closed its
/// connection before reading the answer, a reset) is counted and logged once. The process
/// ignores SIGPIPE, so such a write fails with an error instead of ending the server.
#[derive(Clone)]
struct Watching {
    state: Arc<State>,
}

impl<S> Accept<tokio::net::TcpStream, S> for Watching {
    type Stream = Watched;
    type Service = S;
    type Future = std::future::Ready<io::Result<(Watched, S)>>;

    fn accept(&self, stream: tokio::net::TcpStream, service: S) -> Self::Future {
        let _ = stream.set_nodelay(true);
        std::future::ready(Ok((
            Watched {
                stream,
                state: self.state.clone(),
                broken: AtomicBool::new(false),
            },
            service,
        )))
    }
}

/// A connection that reports its first transport error.
struct Watched {
    stream: tokio::net::TcpStream,
    state: Arc<State>,
    broken: AtomicBool,
}

impl Watched {
    fn note<T>(&self, result: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if let Poll::Ready(Err(err)) = &result {
            let transit = matches!(
                err.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::UnexpectedEof
            );
            if transit && !self.broken.swap(true, Ordering::Relaxed) {
                self.state.metrics.broken_connection();
                let peer = self.stream.peer_addr().ok();
                self.state.log.emit(|| {
                    tracing::info!(
                        peer = ?peer,
                        error = %err,
                        "connection closed by the client in transit"
                    )
                });
            }
        }
        result
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_read(cx, buf);
        this.note(result)
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.note(result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.note(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_flush(cx);
        this.note(result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.note(result)
    }
}
