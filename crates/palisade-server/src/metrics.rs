//! Prometheus metrics of the webhook, served as text at `/metrics`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::config::Mode;
use crate::review::Endpoint;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReviewLabels {
    endpoint: &'static str,
    operation: &'static str,
    kind: &'static str,
    verdict: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    endpoint: &'static str,
    rule: &'static str,
    mode: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    endpoint: &'static str,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    rule: String,
    priority: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    /// `Kind/name` of a constraint or `ValidatingAdmissionPolicyBinding/name`: the loaded
    /// policies name them, never a client.
    policy: String,
    action: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// Every metric the webhook keeps.
pub struct Metrics {
    registry: Registry,
    reviews: Family<ReviewLabels, Counter>,
    findings: Family<FindingLabels, Counter>,
    latency: Family<EndpointLabels, Histogram, fn() -> Histogram>,
    errors: Family<ErrorLabels, Counter>,
    reloads: Family<ResultLabels, Counter>,
    broken: Counter,
    dropped_logs: Counter,
    audit_events: Counter,
    audit_evaluated: Counter,
    audit_dropped: Counter,
    audit_alerts: Family<AlertLabels, Counter>,
    policy_verdicts: Family<PolicyLabels, Counter>,
    policy_reload_errors: Counter,
    /// The dropped-line total already added to `dropped_logs`.
    dropped_seen: AtomicU64,
}

/// A label value from a bounded set, so that clients cannot grow the metrics without bound:
/// the kinds that rules check, and the admission operations; anything else is `other`.
fn bounded_kind(kind: &str) -> &'static str {
    known_kinds().get(kind).copied().unwrap_or("other")
}

fn known_kinds() -> &'static HashSet<&'static str> {
    static KINDS: OnceLock<HashSet<&'static str>> = OnceLock::new();
    KINDS.get_or_init(|| {
        palisade_rules::registry()
            .iter()
            .flat_map(|rule| rule.meta().kinds.iter().copied())
            .filter(|kind| *kind != "*")
            .collect()
    })
}

const OPERATIONS: [&str; 4] = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

fn bounded_operation(operation: &str) -> &'static str {
    OPERATIONS
        .into_iter()
        .find(|known| *known == operation)
        .unwrap_or("other")
}

/// Why a client is refused at `/audit` or `/metrics`.
const AUTH_REASONS: [&str; 6] = [
    "no_common_name",
    "unauthenticated",
    "tokens_disabled",
    "bad_token",
    "token_review_failed",
    "forbidden",
];
/// Why a request body is refused before it is parsed.
const BODY_REASONS: [&str; 5] = [
    "busy",
    "bad_content_type",
    "body_timeout",
    "body_error",
    "body_too_large",
];
/// Why an admission review is refused.
const REVIEW_REASONS: [&str; 8] = [
    "review_failed",
    "bad_review",
    "not_json",
    "wrong_api_version",
    "wrong_kind",
    "missing_request",
    "missing_uid",
    "missing_object",
];
/// Why a list of audit events is refused.
const AUDIT_REASONS: [&str; 2] = ["wrong_kind", "bad_events"];

/// Every (endpoint, reason) of `admission_errors`.
fn error_labels() -> impl Iterator<Item = ErrorLabels> {
    let admission = [Endpoint::Validate, Endpoint::Mutate]
        .into_iter()
        .flat_map(|endpoint| {
            BODY_REASONS
                .into_iter()
                .chain(REVIEW_REASONS)
                .map(move |reason| (endpoint.as_str(), reason))
        });
    let audit = AUTH_REASONS
        .into_iter()
        .chain(BODY_REASONS)
        .chain(AUDIT_REASONS)
        .map(|reason| ("audit", reason));
    let metrics = AUTH_REASONS.into_iter().map(|reason| ("metrics", reason));
    admission
        .chain(audit)
        .chain(metrics)
        .map(|(endpoint, reason)| ErrorLabels { endpoint, reason })
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade");
        let reviews = Family::<ReviewLabels, Counter>::default();
        let findings = Family::<FindingLabels, Counter>::default();
        let latency = Family::<EndpointLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let errors = Family::<ErrorLabels, Counter>::default();
        let reloads = Family::<ResultLabels, Counter>::default();
        let broken = Counter::default();
        let audit_events = Counter::default();
        let audit_evaluated = Counter::default();
        let audit_dropped = Counter::default();
        let audit_alerts = Family::<AlertLabels, Counter>::default();
        let dropped_logs = Counter::default();
        let policy_verdicts = Family::<PolicyLabels, Counter>::default();
        let policy_reload_errors = Counter::default();
        registry.register(
            "admission_reviews",
            "Admission reviews answered, by endpoint, operation, kind and verdict",
            reviews.clone(),
        );
        registry.register(
            "admission_findings",
            "Findings in admission reviews, by endpoint, rule and mode",
            findings.clone(),
        );
        registry.register(
            "admission_review_duration_seconds",
            "Time to read, check and answer one admission review",
            latency.clone(),
        );
        registry.register(
            "admission_errors",
            "Requests rejected before they were handled (bad input, limits, authentication), by \
             endpoint and reason",
            errors.clone(),
        );
        registry.register(
            "tls_reloads",
            "Certificate reloads, by result",
            reloads.clone(),
        );
        registry.register(
            "connections_broken",
            "Connections that failed while a request or answer was in transit (a client that \
             closed its connection early, a reset)",
            broken.clone(),
        );
        registry.register(
            "audit_events_received",
            "Audit events received on /audit from authenticated senders",
            audit_events.clone(),
        );
        registry.register(
            "audit_events",
            "Audit events evaluated by the detections (palisade's rules and the per-object rules)",
            audit_evaluated.clone(),
        );
        registry.register(
            "audit_events_dropped",
            "Audit events dropped unevaluated because the evaluation queue was full",
            audit_dropped.clone(),
        );
        registry.register(
            "audit_alerts",
            "Alerts raised on audit events, by rule and priority",
            audit_alerts.clone(),
        );
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because standard error could not take them in time",
            dropped_logs.clone(),
        );
        registry.register(
            "policy_verdicts",
            "Verdicts of the loaded policies (Gatekeeper constraints, ValidatingAdmissionPolicy \
             bindings) in /validate reviews, by policy and action (deny, warn, dryrun, audit, \
             or error: not evaluated, decided by the failure policy)",
            policy_verdicts.clone(),
        );
        registry.register(
            "policy_reload_errors",
            "Reloads of changed policy files that failed (the previous policies stay in force)",
            policy_reload_errors.clone(),
        );
        let metrics = Metrics {
            registry,
            reviews,
            findings,
            latency,
            errors,
            reloads,
            broken,
            dropped_logs,
            audit_events,
            audit_evaluated,
            audit_dropped,
            audit_alerts,
            policy_verdicts,
            policy_reload_errors,
            dropped_seen: AtomicU64::new(0),
        };
        metrics.create_series();
        metrics
    }

    /// Creates, at zero, every series whose labels come from bounded sets known at start-up,
    /// so that `/metrics` shows them before the first request and rates and alerts see a zero
    /// rather than no data.
    fn create_series(&self) {
        let mut kinds: Vec<&'static str> = known_kinds().iter().copied().collect();
        kinds.push("other");
        for endpoint in [Endpoint::Validate, Endpoint::Mutate].map(Endpoint::as_str) {
            let _ = self.latency.get_or_create(&EndpointLabels { endpoint });
            for operation in OPERATIONS.into_iter().chain(["other"]) {
                for &kind in &kinds {
                    for verdict in ["allowed", "denied"] {
                        let _ = self.reviews.get_or_create(&ReviewLabels {
                            endpoint,
                            operation,
                            kind,
                            verdict,
                        });
                    }
                }
            }
        }
        for rule in palisade_rules::registry() {
            let meta = rule.meta();
            for mode in [Mode::Enforce, Mode::Warn, Mode::Audit] {
                let _ = self.findings.get_or_create(&FindingLabels {
                    endpoint: Endpoint::Validate.as_str(),
                    rule: meta.id,
                    mode: mode.as_str(),
                });
            }
            if meta.fixable {
                let _ = self.findings.get_or_create(&FindingLabels {
                    endpoint: Endpoint::Mutate.as_str(),
                    rule: meta.id,
                    mode: "fixed",
                });
            }
        }
        for labels in error_labels() {
            let _ = self.errors.get_or_create(&labels);
        }
        for result in ["ok", "error"] {
            let _ = self.reloads.get_or_create(&ResultLabels { result });
        }
    }

    pub(crate) fn review(
        &self,
        endpoint: &'static str,
        operation: &str,
        kind: &str,
        allowed: bool,
    ) {
        self.reviews
            .get_or_create(&ReviewLabels {
                endpoint,
                operation: bounded_operation(operation),
                kind: bounded_kind(kind),
                verdict: if allowed { "allowed" } else { "denied" },
            })
            .inc();
    }

    pub(crate) fn finding(&self, endpoint: &'static str, rule: &'static str, mode: &'static str) {
        self.findings
            .get_or_create(&FindingLabels {
                endpoint,
                rule,
                mode,
            })
            .inc();
    }

    pub(crate) fn latency(&self, endpoint: &'static str, seconds: f64) {
        self.latency
            .get_or_create(&EndpointLabels { endpoint })
            .observe(seconds);
    }

    pub(crate) fn error(&self, endpoint: &'static str, reason: &'static str) {
        let labels = ErrorLabels { endpoint, reason };
        debug_assert!(
            error_labels().any(|known| known == labels),
            "{labels:?} is missing from error_labels()"
        );
        self.errors.get_or_create(&labels).inc();
    }

    pub(crate) fn reload(&self, ok: bool) {
        self.reloads
            .get_or_create(&ResultLabels {
                result: if ok { "ok" } else { "error" },
            })
            .inc();
    }

    pub(crate) fn audit_events(&self, events: u64) {
        self.audit_events.inc_by(events);
    }

    pub(crate) fn audit_evaluated(&self, events: u64) {
        self.audit_evaluated.inc_by(events);
    }

    pub(crate) fn audit_dropped(&self, events: u64) {
        self.audit_dropped.inc_by(events);
    }

    pub(crate) fn audit_alert(&self, rule: &str, priority: &'static str) {
        self.audit_alerts
            .get_or_create(&AlertLabels {
                rule: rule.to_owned(),
                priority,
            })
            .inc();
    }

    pub(crate) fn policy_verdict(&self, policy: &str, action: &'static str) {
        self.policy_verdicts
            .get_or_create(&PolicyLabels {
                policy: policy.to_owned(),
                action,
            })
            .inc();
    }

    /// Creates a policy's verdict series at zero.
    pub(crate) fn policy_series(&self, policy: &str, action: &'static str) {
        let _ = self.policy_verdicts.get_or_create(&PolicyLabels {
            policy: policy.to_owned(),
            action,
        });
    }

    pub(crate) fn policy_reload_error(&self) {
        self.policy_reload_errors.inc();
    }

    pub(crate) fn broken_connection(&self) {
        self.broken.inc();
    }

    /// Brings the dropped-log-lines counter up to `total`, the sink's count so far.
    pub(crate) fn dropped_logs(&self, total: u64) {
        let seen = self.dropped_seen.fetch_max(total, Ordering::Relaxed);
        if total > seen {
            self.dropped_logs.inc_by(total - seen);
        }
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
