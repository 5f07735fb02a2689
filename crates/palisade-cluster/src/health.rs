//! `/healthz`, `/readyz` and `/metrics` (Prometheus: `palisade_findings{rule,severity,namespace}`)
//! of `palisade cluster watch`, over plain HTTP for the kubelet's probes and Prometheus.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use palisade_core::rule::Finding;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The state the endpoints report.
pub struct Health {
    ready: AtomicBool,
    leader: AtomicBool,
    registry: Mutex<Registry>,
    findings: Family<Labels, Gauge>,
    is_leader: Gauge,
}

impl Default for Health {
    fn default() -> Self {
        let findings = Family::<Labels, Gauge>::default();
        let is_leader = Gauge::default();
        let mut registry = Registry::default();
        registry.register(
            "palisade_findings",
            "Findings of the last evaluation, by rule, severity and namespace",
            findings.clone(),
        );
        registry.register(
            "palisade_leader",
            "1 while this replica holds the Lease and writes the reports",
            is_leader.clone(),
        );
        Health {
            ready: AtomicBool::new(false),
            leader: AtomicBool::new(false),
            registry: Mutex::new(registry),
            findings,
            is_leader,
        }
    }
}

impl Health {
    /// Ready once every resource type was listed.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    pub fn set_leader(&self, leader: bool) {
        self.leader.store(leader, Ordering::SeqCst);
        self.is_leader.set(i64::from(leader));
    }

    /// Sets `palisade_findings` to the counts of `findings` (series that dropped to no
    /// finding are removed).
    pub fn set_findings<'f>(&self, findings: impl IntoIterator<Item = &'f Finding>) {
        let mut counts: std::collections::BTreeMap<(&str, &str, Option<&str>), i64> =
            Default::default();
        for f in findings {
            let key = (
                f.rule.id,
                f.severity.as_str(),
                f.object.namespace.as_deref(),
            );
            *counts.entry(key).or_default() += 1;
        }
        self.findings.clear();
        for ((rule, severity, namespace), count) in counts {
            let labels = vec![
                ("rule".to_owned(), rule.to_owned()),
                ("severity".to_owned(), severity.to_owned()),
                (
                    "namespace".to_owned(),
                    namespace.unwrap_or_default().to_owned(),
                ),
            ];
            self.findings.get_or_create(&labels).set(count);
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

/// Serves the endpoints on `listener` until the task is dropped.
pub async fn serve_health(listener: tokio::net::TcpListener, health: Arc<Health>) {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(h): State<Arc<Health>>| async move {
                if h.is_ready() {
                    (StatusCode::OK, "ok")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "listing the cluster")
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(h): State<Arc<Health>>| async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    h.encode(),
                )
                    .into_response()
            }),
        )
        .with_state(health);
    let _ = axum::serve(listener, app).await;
}
