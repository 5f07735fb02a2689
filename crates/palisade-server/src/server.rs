//! The HTTPS server: routes, body limit, timeouts, certificate reload and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State as Shared};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_server::tls_rustls::{RustlsAcceptor, RustlsConfig};
use axum_server::Handle;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{json, Value};
use tokio::task::JoinHandle;

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
    /// Largest request body accepted (413 beyond).
    pub body_limit: usize,
    /// Time allowed to receive a request body after its headers (408 beyond).
    pub body_timeout: Duration,
    /// Time allowed for a new connection's TLS handshake.
    pub handshake_timeout: Duration,
    /// Time allowed for a request's headers, and for the first request of a connection.
    pub header_timeout: Duration,
    /// How often the certificate files are checked for changes.
    pub reload_interval: Duration,
    /// How long in-flight requests may run after shutdown starts.
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    /// The defaults: 6 MiB bodies (an object and its old version at the API server's 3 MiB
    /// request limit), 10 s to read a body, 10 s for headers and handshakes, certificate checks
    /// every 5 s.
    pub fn new(addr: SocketAddr, tls: TlsSource) -> ServerConfig {
        ServerConfig {
            addr,
            tls,
            body_limit: 6 * 1024 * 1024,
            body_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            reload_interval: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
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
}

/// A running server.
pub struct Running {
    addr: SocketAddr,
    handle: Handle<SocketAddr>,
    server: JoinHandle<std::io::Result<()>>,
    watcher: Option<JoinHandle<()>>,
    state: Arc<State>,
    grace: Duration,
}

impl Running {
    /// The address it listens on (the real port when the configuration asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets in-flight requests finish within the grace period,
    /// and returns when the server has stopped.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.state.set_ready(false);
        self.handle.graceful_shutdown(Some(self.grace));
        if let Some(watcher) = &self.watcher {
            watcher.abort();
        }
        self.server.await??;
        Ok(())
    }
}

/// The routes, for embedding the webhook in another server or calling it in-process.
pub fn router(state: Arc<State>, body_limit: usize, body_timeout: Duration) -> Router {
    let app = App {
        state,
        body_limit,
        body_timeout,
    };
    Router::new()
        .route(
            "/validate",
            post(|s: Shared<App>, r: Request| admission(Endpoint::Validate, s, r)),
        )
        .route(
            "/mutate",
            post(|s: Shared<App>, r: Request| admission(Endpoint::Mutate, s, r)),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .fallback(|| async {
            json_response(
                StatusCode::NOT_FOUND,
                json!({ "error": "not found; the webhook serves /validate and /mutate" })
                    .to_string()
                    .into_bytes(),
            )
        })
        .with_state(app)
}

/// Loads the certificate, binds the address and starts serving in the background.
pub async fn start(config: ServerConfig, state: Arc<State>) -> Result<Running, ServeError> {
    let tls_config = match &config.tls {
        TlsSource::Files(files) => tls::load_files(&files.cert, &files.key)?,
        TlsSource::Pem { cert, key } => tls::server_config(cert.as_bytes(), key.as_bytes())?,
    };
    let rustls = RustlsConfig::from_config(tls_config);
    let bind = |source| ServeError::Bind {
        addr: config.addr,
        source,
    };
    let listener = std::net::TcpListener::bind(config.addr).map_err(bind)?;
    listener.set_nonblocking(true).map_err(bind)?;
    let addr = listener.local_addr().map_err(bind)?;

    let handle = Handle::new();
    let mut server = axum_server::from_tcp(listener)
        .map_err(bind)?
        .acceptor(RustlsAcceptor::new(rustls.clone()).handshake_timeout(config.handshake_timeout))
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
    let app = router(state.clone(), config.body_limit, config.body_timeout);
    let server = tokio::spawn(server.serve(app.into_make_service()));
    let watcher = match &config.tls {
        TlsSource::Files(files) => Some(tokio::spawn(tls::watch(
            files.clone(),
            rustls,
            config.reload_interval,
            state.clone(),
        ))),
        TlsSource::Pem { .. } => None,
    };
    state.set_ready(true);
    state.log.event(
        "info",
        "listening",
        &[("addr", Value::from(addr.to_string()))],
    );
    Ok(Running {
        addr,
        handle,
        server,
        watcher,
        state,
        grace: config.shutdown_grace,
    })
}

/// Serves until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn serve(config: ServerConfig, state: Arc<State>) -> Result<(), ServeError> {
    let running = start(config, state.clone()).await?;
    shutdown_signal().await;
    state.log.event("info", "shutting down", &[]);
    running.shutdown().await
}

/// [`serve`] on a new multi-threaded Tokio runtime, for callers without one.
pub fn serve_blocking(config: ServerConfig, state: Arc<State>) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config, state))
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
    let reply = read_and_review(endpoint, &app, request).await;
    json_response(
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        reply.body,
    )
}

async fn read_and_review(endpoint: Endpoint, app: &App, request: Request) -> Reply {
    let state = &app.state;
    let headers = request.headers();
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let json = kind
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return state.reject(
                endpoint,
                415,
                "bad_content_type",
                format!("content type {kind:?} is not application/json"),
            );
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > app.body_limit as u64) {
        return too_large(endpoint, app);
    }
    let body = Limited::new(request.into_body(), app.body_limit);
    let bytes = match tokio::time::timeout(app.body_timeout, body.collect()).await {
        Err(_) => {
            return state.reject(
                endpoint,
                408,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    app.body_timeout.as_millis()
                ),
            )
        }
        Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
            return too_large(endpoint, app)
        }
        Ok(Err(err)) => {
            return state.reject(
                endpoint,
                400,
                "body_error",
                format!("cannot read the request body: {err}"),
            )
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    review(state, endpoint, &bytes)
}

fn too_large(endpoint: Endpoint, app: &App) -> Reply {
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

async fn readyz(Shared(app): Shared<App>) -> Response {
    if app.state.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    }
}

async fn metrics(Shared(app): Shared<App>) -> Response {
    let mut response = Response::new(Body::from(app.state.metrics.encode()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}
