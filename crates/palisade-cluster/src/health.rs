//! `/healthz`, `/readyz` and `/metrics` (Prometheus: `palisade_findings{rule,severity,namespace}`)
//! of `palisade cluster watch`, over plain HTTP for the kubelet's probes and Prometheus.

use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// Findings counted by rule, severity and namespace (`""` when cluster-scoped).
type Counts = BTreeMap<(&'static str, &'static str, String), i64>;

/// The counts behind `palisade_findings`: per report group (a namespace, `None` for the
/// cluster-scoped report) and their sum, so that a batch counts only the groups it changed.
#[derive(Default)]
struct FindingCounts {
    by_group: HashMap<Option<String>, Counts>,
    total: Counts,
}

/// The state the endpoints report.
pub struct Health {
    ready: AtomicBool,
    leader: AtomicBool,
    registry: Mutex<Registry>,
    findings: Family<Labels, Gauge>,
    counts: Mutex<FindingCounts>,
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
            counts: Mutex::default(),
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

    /// Sets the counts of `palisade_findings` of each report group given (a namespace, `None`
    /// for the cluster-scoped report) to those of its findings, now; the groups not given keep
    /// theirs. Each series is the sum over the groups (series that dropped to no finding are
    /// removed).
    pub fn set_findings<'f>(
        &self,
        groups: impl IntoIterator<Item = (Option<&'f str>, &'f [Finding])>,
    ) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let FindingCounts { by_group, total } = &mut *counts;
        let mut touched = BTreeSet::new();
        for (group, findings) in groups {
            let mut now = Counts::new();
            for f in findings {
                let key = (
                    f.rule.id,
                    f.severity.as_str(),
                    f.object.namespace.clone().unwrap_or_default(),
                );
                *now.entry(key).or_default() += 1;
            }
            let before = by_group
                .remove(&group.map(str::to_owned))
                .unwrap_or_default();
            for (key, count) in before {
                *total.entry(key.clone()).or_default() -= count;
                touched.insert(key);
            }
            for (key, count) in &now {
                *total.entry(key.clone()).or_default() += count;
                touched.insert(key.clone());
            }
            if !now.is_empty() {
                by_group.insert(group.map(str::to_owned), now);
            }
        }
        for key in touched {
            let (rule, severity, namespace) = &key;
            let labels = vec![
                ("rule".to_owned(), (*rule).to_owned()),
                ("severity".to_owned(), (*severity).to_owned()),
                ("namespace".to_owned(), namespace.clone()),
            ];
            match total.get(&key) {
                Some(&count) if count > 0 => {
                    self.findings.get_or_create(&labels).set(count);
                }
                _ => {
                    total.remove(&key);
                    self.findings.remove(&labels);
                }
            }
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

#[cfg(test)]
mod tests {
    use palisade_core::rule::{RuleMeta, Severity};
    use palisade_core::{ObjectRef, Pos};

    use super::*;

    const fn rule(id: &'static str) -> RuleMeta {
        RuleMeta {
            id,
            slug: "test",
            title: "test",
            severity: Severity::High,
            category: "test",
            kinds: &["Pod"],
            summary: "",
            rationale: "",
            remediation: "",
            references: &[],
            fixable: false,
            source: "",
        }
    }
    static A: RuleMeta = rule("A001");
    static B: RuleMeta = rule("B001");

    fn finding(rule: &'static RuleMeta, severity: Severity, namespace: Option<&str>) -> Finding {
        Finding {
            rule,
            severity,
            message: String::new(),
            file: String::new(),
            pos: Pos::default(),
            pointer: String::new(),
            object: std::sync::Arc::new(ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: namespace.map(str::to_owned),
                name: "p".into(),
                uid: None,
            }),
            document: 0,
            item: None,
            fix: None,
            related: Vec::new(),
            secrets: Vec::new(),
            policy: None,
        }
    }

    /// The `palisade_findings` lines, sorted.
    fn series(health: &Health) -> Vec<String> {
        let mut lines: Vec<String> = health
            .encode()
            .lines()
            .filter(|l| l.starts_with("palisade_findings{"))
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }

    #[test]
    fn groups_counted_apart_sum_to_a_count_of_every_finding() {
        let mut groups: BTreeMap<Option<String>, Vec<Finding>> = BTreeMap::new();
        let incremental = Health::default();
        let steps: Vec<(Option<&str>, Vec<Finding>)> = vec![
            (None, vec![finding(&A, Severity::High, None)]),
            (
                Some("a"),
                vec![
                    finding(&A, Severity::High, Some("a")),
                    finding(&A, Severity::High, Some("a")),
                    finding(&B, Severity::Low, Some("a")),
                ],
            ),
            (Some("b"), vec![finding(&B, Severity::Low, Some("b"))]),
            // A cluster-scoped group whose findings name a namespace count there too.
            (
                None,
                vec![
                    finding(&A, Severity::High, None),
                    finding(&B, Severity::Low, Some("a")),
                ],
            ),
            (Some("a"), vec![finding(&A, Severity::Critical, Some("a"))]),
            (Some("b"), vec![]),
        ];
        for (group, findings) in steps {
            incremental.set_findings([(group, findings.as_slice())]);
            groups.insert(group.map(str::to_owned), findings);
            let whole = Health::default();
            whole.set_findings(groups.iter().map(|(g, f)| (g.as_deref(), f.as_slice())));
            assert_eq!(series(&incremental), series(&whole));
        }
        assert_eq!(
            series(&incremental),
            [
                r#"palisade_findings{rule="A001",severity="critical",namespace="a"} 1"#,
                r#"palisade_findings{rule="A001",severity="high",namespace=""} 1"#,
                r#"palisade_findings{rule="B001",severity="low",namespace="a"} 1"#,
            ]
        );
    }
}
