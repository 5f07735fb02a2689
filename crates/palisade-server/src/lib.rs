//! The palisade admission webhook: the rules of `palisade scan`, answered over HTTPS to the
//! Kubernetes API server as `admission.k8s.io/v1` AdmissionReviews.
//!
//! - [`review`] answers one review in-process (no network), for embedding and benchmarks.
//! - [`start`] / [`serve`] run the HTTPS server: `/validate`, `/mutate`, `/healthz`, `/readyz`,
//!   `/metrics`, with a body limit, timeouts and certificate hot reload.
//! - [`WebhookConfig`] holds the per-rule and per-namespace modes (`webhook:` section).

mod config;
mod log;
mod metrics;
mod review;
mod server;
mod tls;

pub use config::{Mode, UpdatePolicy, WebhookConfig, WebhookConfigError};
pub use log::LogSink;
pub use metrics::Metrics;
pub use review::{review, Endpoint, Reply, ReviewLimits, State, API_VERSION};
pub use server::{
    router, serve, serve_blocking, start, RouterLimits, Running, ServeError, ServerConfig,
    TlsSource,
};
pub use tls::{load_files, self_signed, server_config, CertFiles, SelfSigned, TlsError};
