//! The palisade admission webhook: the rules of `palisade scan`, answered over HTTPS to the
//! Kubernetes API server as `admission.k8s.io/v1` AdmissionReviews.
//!
//! - [`review`] answers one review in-process (no network), for embedding and benchmarks.
//! - [`start`] / [`serve`] run the HTTPS server: `/validate`, `/mutate`, `/healthz`, `/readyz`,
//!   `/metrics` and `/audit` (the API server's audit webhook backend), with body, value,
//!   container and concurrency limits, timeouts, certificate hot reload, authentication of
//!   callers of protected endpoints ([`AuthConfig`]) and a drain on shutdown.
//! - [`State::with_policies`] loads Gatekeeper constraints and ValidatingAdmissionPolicies
//!   (`palisade-policy`), judged on `/validate` with the rules within a time limit, and reloaded
//!   when their files change ([`Policies`]).
//! - [`WebhookConfig`] holds the per-rule and per-namespace modes (`webhook:` section).

mod auth;
mod config;
// Admission with the cluster's state (`palisade serve --cluster`).
mod inventory;
mod log;
mod metrics;
mod policies;
mod review;
mod server;
mod tls;

pub use auth::{Access, AuthConfig, KubeTokenReviewer, Refusal, TokenReviewer, TokenVerdict};
pub use config::{Mode, UpdatePolicy, WebhookConfig, WebhookConfigError};
pub use inventory::{inventory_kinds, inventory_rules, sync, without_cluster, ClusterCache};
pub use log::LogSink;
pub use metrics::Metrics;
pub use palisade_policy::FailurePolicy;
pub use policies::{Policies, PolicyLoadError};
pub use review::{review, Endpoint, Reply, ReviewLimits, State, API_VERSION};
pub use server::{
    router, serve, start, AuditOutput, RouterLimits, Running, ServeError, ServerConfig, TlsSource,
};
pub use tls::{client_ca, load_files, self_signed, server_config, CertFiles, SelfSigned, TlsError};
