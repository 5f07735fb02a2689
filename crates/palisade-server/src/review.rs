//! Answering one AdmissionReview: parse it, run the rules on the object, and build the response
//! with the verdict, warnings, audit annotations and (for /mutate) the JSON Patch of the fixes.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use palisade_core::patch::{apply, PatchOp};
use palisade_core::rule::{Finding, Fix};
use palisade_core::{Object, Redactor};
use palisade_rules::fixes::{plan, violations, Outcome as FixOutcome};
use palisade_rules::{Config, Engine, EngineError, IGNORE_ANNOTATION};

use crate::config::{Mode, UpdatePolicy, WebhookConfig};
use crate::log::{capped, LogSink};
use crate::metrics::Metrics;
use crate::policies::{Policies, PolicyLoadError, Verdicts};

/// The AdmissionReview API version the webhook speaks.
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// Longest warning returned to the client; the API server truncates longer ones.
const MAX_WARNING: usize = 256;
/// Most fixes /mutate applies to one object.
const MAX_FIXES: usize = 64;
/// Most findings listed in a denial, as warnings, in the audit annotation or in the log line;
/// the rest are counted.
const MAX_LISTED: usize = 50;

/// Which webhook endpoint a review came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/validate`: allow, deny, warn.
    Validate,
    /// `/mutate`: allow with the JSON Patch of the configured fixes.
    Mutate,
}

impl From<Endpoint> for &'static str {
    fn from(endpoint: Endpoint) -> &'static str {
        endpoint.as_str()
    }
}

impl Endpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Validate => "validate",
            Endpoint::Mutate => "mutate",
        }
    }
}

/// An HTTP answer: status code and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Everything a review needs, shared by every connection.
pub struct State {
    config: Config,
    select: Vec<String>,
    ignore: Vec<String>,
    /// The engine and the day it was built for: suppressions that expire stop applying when the
    /// day changes.
    engine: RwLock<(i64, Arc<Engine>)>,
    webhook: WebhookConfig,
    limits: ReviewLimits,
    pub metrics: Metrics,
    pub log: LogSink,
    ready: AtomicBool,
    /// The policies of `--policy`, evaluated on `/validate` with the rules.
    policies: Option<Policies>,
    /// The cluster's state for the inventory rules (`serve --cluster`).
    pub(crate) cluster: Option<Arc<crate::inventory::ClusterCache>>,
}

/// How much one admitted object may make the webhook do. Objects beyond these limits are denied
/// with a message naming the limit, before any rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewLimits {
    /// Most containers (init, regular and ephemeral together) in one pod spec.
    pub max_containers: usize,
    /// Most JSON values (mappings, sequences and scalars) in one object; counted in the
    /// request's text before the object is decoded.
    pub max_nodes: usize,
    /// Most time the loaded policies may take on one object, all together (each evaluation
    /// may take half of it); past it the policy failure policy decides.
    pub policy_time: Duration,
}

impl Default for ReviewLimits {
    /// 256 containers (real pods have a handful; the API server sets no limit) and 100,000
    /// values (the largest objects of the corpus, CustomResourceDefinitions, have about 20,000;
    /// the kinds the webhook is registered for have far fewer); 2 s for the policies (the
    /// webhook configuration's `timeoutSeconds` is 5).
    fn default() -> Self {
        ReviewLimits {
            max_containers: 256,
            max_nodes: 100_000,
            policy_time: Duration::from_secs(2),
        }
    }
}

impl State {
    /// Builds the rule engine from the rules configuration and command-line selections.
    pub fn new(
        config: Config,
        select: Vec<String>,
        ignore: Vec<String>,
        mut webhook: WebhookConfig,
        log: LogSink,
    ) -> Result<State, EngineError> {
        let day = palisade_rules::config::today();
        let engine = Engine::new(&config, &select, &ignore)?;
        for warning in &engine.warnings {
            log.emit(|| tracing::warn!("{warning}"));
        }
        webhook.inherit_fail_on(config.fail_on);
        Ok(State {
            config,
            select,
            ignore,
            engine: RwLock::new((day, Arc::new(engine))),
            webhook,
            limits: ReviewLimits::default(),
            metrics: Metrics::new(),
            log,
            ready: AtomicBool::new(true),
            policies: None,
            cluster: None,
        })
    }

    /// Loads the policies of `dirs` (ConstraintTemplates and Constraints, ValidatingAdmission-
    /// Policies, their bindings and parameters), evaluated on `/validate` within the review
    /// limits' `policy_time` (set the limits first). `failure` decides about a constraint that
    /// cannot be evaluated and about policies that do not finish in time.
    pub fn with_policies(
        mut self,
        dirs: Vec<PathBuf>,
        failure: palisade_policy::FailurePolicy,
    ) -> Result<State, PolicyLoadError> {
        let policies = Policies::load(dirs, failure, self.limits.policy_time)?;
        policies.create_series(&self.metrics);
        let set = policies.current();
        let (constraints, bindings) = (set.constraints().len(), set.bindings().count());
        self.log
            .emit(|| tracing::info!(constraints, bindings, "policies loaded"));
        self.policies = Some(policies);
        Ok(self)
    }

    /// The policies of `--policy`, if any.
    pub fn policies(&self) -> Option<&Policies> {
        self.policies.as_ref()
    }

    /// Reloads the policies when their files changed: a set that loads replaces the one in
    /// force at once; one that fails is logged (each error at its file:line) and counted, and
    /// the set in force stays.
    pub(crate) fn reload_policies(&self) {
        let Some(policies) = &self.policies else {
            return;
        };
        match policies.reload() {
            None => {}
            Some(Ok(())) => {
                policies.create_series(&self.metrics);
                let set = policies.current();
                let (constraints, bindings) = (set.constraints().len(), set.bindings().count());
                self.log
                    .emit(|| tracing::info!(constraints, bindings, "policies reloaded"));
            }
            Some(Err(errors)) => {
                self.metrics.policy_reload_error();
                for error in &errors {
                    self.log.emit(|| {
                        tracing::error!(
                            error = capped(error),
                            "policy reload failed; the previous policies stay in force"
                        )
                    });
                }
            }
        }
    }

    /// The engine for today, rebuilt when the date changed since it was built.
    pub fn engine(&self) -> Arc<Engine> {
        let day = palisade_rules::config::today();
        if let Ok(guard) = self.engine.read() {
            if guard.0 == day {
                return guard.1.clone();
            }
        }
        let mut guard = match self.engine.write() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if guard.0 != day {
            if let Ok(engine) = Engine::new(&self.config, &self.select, &self.ignore) {
                for warning in &engine.warnings {
                    self.log.emit(|| tracing::warn!("{warning}"));
                }
                *guard = (day, Arc::new(engine));
            }
        }
        guard.1.clone()
    }

    pub fn webhook(&self) -> &WebhookConfig {
        &self.webhook
    }

    /// Replaces the per-object limits.
    pub fn with_limits(mut self, limits: ReviewLimits) -> State {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> ReviewLimits {
        self.limits
    }

    /// Reviews with the cluster's state: the inventory rules run over `cache` and the admitted
    /// object ([`crate::sync`] fills it).
    pub fn with_cluster(mut self, cache: Arc<crate::inventory::ClusterCache>) -> State {
        self.cluster = Some(cache);
        self
    }

    /// Whether `/readyz` answers 200 (not draining, and the cluster's state synced when there
    /// is one), and its details (the sync, the policies in force).
    pub fn readiness(&self) -> (bool, String) {
        if !self.ready() {
            return (false, "shutting down".to_owned());
        }
        let (ready, mut details) = match &self.cluster {
            Some(cache) => (cache.synced(), cache.describe()),
            None => (
                true,
                crate::inventory::without_cluster(&self.engine()).unwrap_or_default(),
            ),
        };
        if let Some(policies) = &self.policies {
            if !details.is_empty() {
                details.push('\n');
            }
            details.push_str(policies.status().trim_end());
        }
        (ready, details)
    }

    /// Whether `/readyz` answers 200.
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// A 4xx answer for a request that is not a valid review, counted and logged.
    pub(crate) fn reject(
        &self,
        endpoint: impl Into<&'static str>,
        status: u16,
        reason: &'static str,
        message: String,
    ) -> Reply {
        let endpoint: &'static str = endpoint.into();
        self.metrics.error(endpoint, reason);
        self.log.emit(|| {
            tracing::warn!(
                endpoint,
                status,
                reason,
                error = capped(&message),
                "bad request"
            )
        });
        Reply {
            status,
            body: json!({ "error": message, "reason": reason })
                .to_string()
                .into_bytes(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Review<'a> {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(borrow)]
    request: Option<Request<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct GroupVersionKind {
    #[serde(default)]
    kind: String,
}

#[derive(Debug, Default, Deserialize)]
struct UserInfo {
    #[serde(default)]
    username: String,
}

/// The request of a review. The objects are kept as the raw JSON text of the body, and decoded
/// only after their values were counted, so an oversized object is never built in memory.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request<'a> {
    uid: String,
    #[serde(default)]
    kind: GroupVersionKind,
    #[serde(default)]
    sub_resource: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    operation: String,
    #[serde(default)]
    user_info: UserInfo,
    #[serde(default, borrow)]
    object: Option<&'a RawValue>,
    #[serde(default, borrow)]
    old_object: Option<&'a RawValue>,
    #[serde(default)]
    dry_run: Option<bool>,
}

/// A finding with what the webhook does about it.
struct Judged {
    finding: Finding,
    mode: Mode,
    /// Enforced, but already present before the update (only with `updates: no-worse`).
    preexisting: bool,
}

/// Answers one AdmissionReview given as the raw request body.
pub fn review(state: &State, endpoint: Endpoint, body: &[u8]) -> Reply {
    let started = Instant::now();
    let parsed: Review = match serde_json::from_slice(body) {
        Ok(review) => review,
        Err(err) if err.is_data() => {
            return state.reject(
                endpoint,
                400,
                "bad_review",
                format!("not a valid AdmissionReview: {err}"),
            )
        }
        Err(err) => {
            return state.reject(
                endpoint,
                400,
                "not_json",
                format!("request body is not JSON: {err}"),
            )
        }
    };
    if parsed.api_version.as_deref() != Some(API_VERSION) {
        return state.reject(
            endpoint,
            400,
            "wrong_api_version",
            format!(
                "unsupported apiVersion {}; expected {API_VERSION}",
                parsed
                    .api_version
                    .as_deref()
                    .map_or("(none)".to_owned(), |v| format!("{v:?}"))
            ),
        );
    }
    if parsed.kind.as_deref() != Some("AdmissionReview") {
        return state.reject(
            endpoint,
            400,
            "wrong_kind",
            format!(
                "unsupported kind {}; expected AdmissionReview",
                parsed
                    .kind
                    .as_deref()
                    .map_or("(none)".to_owned(), |v| format!("{v:?}"))
            ),
        );
    }
    let Some(request) = parsed.request else {
        return state.reject(
            endpoint,
            400,
            "missing_request",
            "the AdmissionReview has no `request`".to_owned(),
        );
    };
    if request.uid.is_empty() {
        return state.reject(
            endpoint,
            400,
            "missing_uid",
            "the AdmissionReview request has an empty `uid`".to_owned(),
        );
    }
    // Only new objects are mutated: most of a Pod is immutable, and a fix on an UPDATE (say a
    // label change) would make the API server refuse the update.
    let judging = match endpoint {
        Endpoint::Validate => matches!(request.operation.as_str(), "CREATE" | "UPDATE"),
        Endpoint::Mutate => request.operation == "CREATE",
    };
    let subresource = request.sub_resource.as_deref().unwrap_or("");
    // The ephemeralcontainers subresource carries the whole Pod: judge it, or a privileged
    // debug container could be added to a running pod.
    let skip = !judging
        || !(subresource.is_empty() || subresource == "ephemeralcontainers")
        || state.webhook.exempt(request.namespace.as_deref());
    let mut outcome = Outcome::default();
    if !skip {
        let object = match request.object.map(|raw| decode(&state.limits, raw)) {
            Some(Ok(value)) if value.is_object() => Ok(value),
            Some(Err(reason)) => Err(reason),
            _ => {
                return state.reject(
                    endpoint,
                    400,
                    "missing_object",
                    format!(
                        "the {} request has no `request.object` mapping",
                        request.operation
                    ),
                )
            }
        };
        outcome =
            match object.and_then(|o| too_many_containers(&state.limits, &o).map_or(Ok(o), Err)) {
                Err(reason) => Outcome::too_large(reason),
                Ok(object) => judge(state, endpoint, &request, object, body),
            };
    }
    let allowed = outcome.denial.is_none();
    let mut response = Map::new();
    response.insert("uid".to_owned(), Value::String(request.uid.clone()));
    response.insert("allowed".to_owned(), Value::Bool(allowed));
    if let Some(message) = &outcome.denial {
        let (code, reason) = if outcome.oversized {
            (413, "RequestEntityTooLarge")
        } else {
            (403, "Forbidden")
        };
        response.insert(
            "status".to_owned(),
            json!({ "code": code, "reason": reason, "message": message }),
        );
    }
    if !outcome.warnings.is_empty() {
        response.insert("warnings".to_owned(), json!(outcome.warnings));
    }
    if !outcome.audit.is_empty() {
        response.insert(
            "auditAnnotations".to_owned(),
            json!({ "findings": outcome.audit.join("; ") }),
        );
    }
    if !outcome.patch.is_empty() {
        let patch = serde_json::to_vec(&outcome.patch).unwrap_or_default();
        response.insert(
            "patch".to_owned(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(patch)),
        );
        response.insert("patchType".to_owned(), Value::from("JSONPatch"));
    }
    let body = json!({
        "apiVersion": API_VERSION,
        "kind": "AdmissionReview",
        "response": Value::Object(response),
    });

    let elapsed = started.elapsed();
    state.metrics.review(
        endpoint.as_str(),
        &request.operation,
        &request.kind.kind,
        allowed,
    );
    state
        .metrics
        .latency(endpoint.as_str(), elapsed.as_secs_f64());
    for (rule, mode) in &outcome.counted {
        state.metrics.finding(endpoint.as_str(), rule, mode);
    }
    let namespace = request.namespace.as_deref().unwrap_or_default();
    let name = request.name.as_deref().unwrap_or_default();
    let findings_total = outcome.logged.len();
    outcome.logged.truncate(MAX_LISTED);
    let findings = Value::Array(outcome.logged).to_string();
    state.log.emit(|| {
        tracing::info!(
            endpoint = endpoint.as_str(),
            uid = capped(&request.uid),
            operation = capped(&request.operation),
            kind = capped(&request.kind.kind),
            subresource = capped(subresource),
            namespace = capped(namespace),
            name = capped(name),
            user = capped(&request.user_info.username),
            dry_run = request.dry_run.unwrap_or(false),
            checked = !skip,
            allowed,
            findings_total,
            findings,
            patch_ops = outcome.patch.len(),
            duration_us = elapsed.as_micros() as u64,
            "review"
        )
    });
    Reply {
        status: 200,
        body: body.to_string().into_bytes(),
    }
}

#[derive(Default)]
struct Outcome {
    denial: Option<String>,
    /// Denied for its size, before any rule ran.
    oversized: bool,
    warnings: Vec<String>,
    audit: Vec<String>,
    patch: Vec<PatchOp>,
    /// Findings for the log.
    logged: Vec<Value>,
    /// (rule, mode or `fixed`) of every finding, for the metrics.
    counted: Vec<(&'static str, &'static str)>,
}

impl Outcome {
    fn too_large(reason: String) -> Outcome {
        Outcome {
            denial: Some(reason),
            oversized: true,
            ..Outcome::default()
        }
    }
}

/// Decodes an object of the review after counting its values in the raw text, so that an
/// object over the limit costs no memory beyond the request body.
pub(crate) fn decode(limits: &ReviewLimits, raw: &RawValue) -> Result<Value, String> {
    let values = count_values(raw.get().as_bytes());
    if values > limits.max_nodes {
        return Err(format!(
            "palisade reviews objects of at most {} JSON values; this one has {values}",
            limits.max_nodes
        ));
    }
    serde_json::from_str(raw.get()).map_err(|err| format!("cannot decode the object: {err}"))
}

/// The number of values in a JSON text (exact for valid JSON without empty arrays or objects;
/// each empty one counts one extra): one, plus one per comma and per opening bracket outside
/// strings.
fn count_values(json: &[u8]) -> usize {
    let mut count = 1;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in json {
        if in_string {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = false;
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b',' | b'[' | b'{' => count += 1,
            _ => {}
        }
    }
    count
}

/// Why a pod spec has too many containers to review, if it does.
fn too_many_containers(limits: &ReviewLimits, object: &Value) -> Option<String> {
    let containers: usize = object
        .get("kind")
        .and_then(Value::as_str)
        .and_then(palisade_core::views::pod_spec_location)
        .and_then(|(spec, _)| palisade_core::pointer::At::at(object, spec))
        .map_or(0, |spec| {
            ["initContainers", "containers", "ephemeralContainers"]
                .iter()
                .filter_map(|field| spec.get(field).and_then(Value::as_array))
                .map(Vec::len)
                .sum()
        });
    (containers > limits.max_containers).then(|| {
        format!(
            "palisade reviews pod specs of at most {} containers; this one has {containers}",
            limits.max_containers
        )
    })
}

/// Prepares an admitted object for the rules: the namespace of the request when the object has
/// none, and without the ignore annotation unless the configuration honours it.
fn prepare(state: &State, request: &Request, mut value: Value) -> Object {
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        if let Some(ns) = request.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            let missing = metadata
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if missing {
                metadata.insert("namespace".to_owned(), Value::from(ns));
            }
        }
        if !state.webhook.honor_ignore_annotations {
            if let Some(annotations) = metadata
                .get_mut("annotations")
                .and_then(Value::as_object_mut)
            {
                annotations.remove(IGNORE_ANNOTATION);
            }
        }
    }
    Object::from_value(value, "admission")
}

fn judge(
    state: &State,
    endpoint: Endpoint,
    request: &Request,
    value: Value,
    body: &[u8],
) -> Outcome {
    let engine = state.engine();
    let namespace = request.namespace.as_deref().filter(|ns| !ns.is_empty());
    let mut outcome = Outcome::default();
    match endpoint {
        Endpoint::Validate => {
            // The policies run on a thread of their own while the rules run here.
            let policies = state.policies.as_ref().and_then(|p| {
                p.start(|| crate::policies::admission_request(body, value.clone(), &state.limits))
            });
            let object = prepare(state, request, value);
            outcome.warnings = ignore_warnings(&engine, &object);
            let findings = crate::inventory::findings(
                state.cluster.as_deref(),
                &engine,
                &object,
                &mut outcome.warnings,
            );
            let previous: HashSet<(&'static str, String)> =
                match (request.old_object, state.webhook.updates) {
                    (Some(old), UpdatePolicy::NoWorse) if request.operation == "UPDATE" => {
                        // An old object that cannot be decoded within the limits earns no
                        // leniency: the new one is judged like a new object.
                        let old = decode(&state.limits, old)
                            .ok()
                            .filter(Value::is_object)
                            .map(|old| prepare(state, request, old));
                        old.iter()
                            .flat_map(|old| {
                                crate::inventory::findings(
                                    state.cluster.as_deref(),
                                    &engine,
                                    old,
                                    &mut Vec::new(),
                                )
                            })
                            .map(|f| (f.rule.id, f.pointer))
                            .collect()
                    }
                    _ => HashSet::new(),
                };
            let judged: Vec<Judged> = findings
                .into_iter()
                .filter_map(|finding| {
                    let mode = state
                        .webhook
                        .mode(finding.rule.id, finding.severity, namespace);
                    let preexisting = mode == Mode::Enforce
                        && previous.contains(&(finding.rule.id, finding.pointer.clone()));
                    (mode != Mode::Off).then_some(Judged {
                        finding,
                        mode,
                        preexisting,
                    })
                })
                .collect();
            let verdicts = policies.map(|p| p.wait(&state.metrics)).unwrap_or_default();
            validate(&object, judged, verdicts, &mut outcome);
        }
        Endpoint::Mutate => {
            let original = value.clone();
            let object = prepare(state, request, value);
            outcome.warnings = ignore_warnings(&engine, &object);
            mutate(state, &engine, object, original, namespace, &mut outcome);
        }
    }
    outcome
}

/// The names in the object's ignore annotation that are no rule, as admission warnings with
/// the nearest rule name: the warnings `palisade scan` gives ([`Engine::ignore_warnings`]),
/// without their place (an admitted object has no file). None when the annotation is not
/// honoured: [`prepare`] removed it.
fn ignore_warnings(engine: &Engine, object: &Object) -> Vec<String> {
    let place = format!("{}:", object.source.path);
    engine
        .ignore_warnings(object)
        .into_iter()
        .map(|text| {
            let message = text
                .strip_prefix(&place)
                .and_then(|rest| rest.split_once(": "))
                .map_or(text.as_str(), |(_, message)| message);
            warning(&format!("palisade: {message}"))
        })
        .collect()
}

fn validate(object: &Object, judged: Vec<Judged>, policies: Verdicts, outcome: &mut Outcome) {
    let mut denied = Vec::new();
    // Answers are shown to the client and logged by the API server: credentials stay masked.
    let redactor =
        Redactor::new(judged.iter().flat_map(|j| j.finding.secrets.iter())).unwrap_or_default();
    for j in &judged {
        let f = &j.finding;
        let message = redactor.redact(&f.message);
        let mode = if j.preexisting { Mode::Warn } else { j.mode };
        outcome.counted.push((f.rule.id, mode.as_str()));
        outcome.logged.push(json!({
            "rule": f.rule.id,
            "mode": mode.as_str(),
            "severity": f.severity.as_str(),
            "field": f.pointer,
        }));
        match mode {
            Mode::Enforce => denied.push(format!(
                "- {} {} ({}) at {}: {}",
                f.rule.id,
                f.rule.slug,
                f.severity,
                field(&f.pointer),
                message
            )),
            Mode::Warn => outcome.warnings.push(warning(&format!(
                "{} {}{}: {} (at {})",
                f.rule.id,
                f.rule.slug,
                if j.preexisting {
                    " [already present, allowed on update]"
                } else {
                    ""
                },
                message,
                field(&f.pointer)
            ))),
            Mode::Audit => outcome
                .audit
                .push(format!("{} at {}", f.rule.id, field(&f.pointer))),
            Mode::Off => {}
        }
    }
    denied.extend(policies.denied);
    outcome.warnings.extend(policies.warnings);
    outcome.audit.extend(policies.audit);
    outcome.logged.extend(policies.logged);
    if !denied.is_empty() {
        let total = denied.len();
        let unlisted = total.saturating_sub(MAX_LISTED);
        denied.truncate(MAX_LISTED);
        if unlisted > 0 {
            denied.push(format!(
                "- and {unlisted} more (run `palisade scan` on the object to see them all)"
            ));
        }
        outcome.denial = Some(format!(
            "palisade denied {}: {} finding{}\n{}",
            object.reference(),
            total,
            if total == 1 { "" } else { "s" },
            denied.join("\n")
        ));
    }
    cap_listed(outcome);
}

/// Keeps the warnings and audit annotation of one answer short: the first [`MAX_LISTED`], and
/// a count of the rest.
fn cap_listed(outcome: &mut Outcome) {
    let unlisted = outcome.warnings.len().saturating_sub(MAX_LISTED);
    if unlisted > 0 {
        outcome.warnings.truncate(MAX_LISTED);
        outcome
            .warnings
            .push(format!("palisade: {unlisted} more warnings not listed"));
    }
    let unlisted = outcome.audit.len().saturating_sub(MAX_LISTED);
    if unlisted > 0 {
        outcome.audit.truncate(MAX_LISTED);
        outcome.audit.push(format!("{unlisted} more"));
    }
}

/// Plans the fixes of the mutating rules together ([`plan`]): safe fixes of the rules
/// `mutate` selects, unsafe ones only of the rules it names; none that would make the object
/// invalid. The patch applies, in order, to the object exactly as the API server sent it.
fn mutate(
    state: &State,
    engine: &Engine,
    object: Object,
    original: Value,
    namespace: Option<&str>,
    outcome: &mut Outcome,
) {
    let findings: Vec<Finding> = engine
        .check_object(&object)
        .into_iter()
        .filter(|f| {
            f.fix.as_ref().is_some_and(|fix| !fix.patch.is_empty())
                && state.webhook.mutates(f.rule.id)
                && state.webhook.mode(f.rule.id, f.severity, namespace) != Mode::Off
        })
        .take(MAX_FIXES)
        .collect();
    let fixes: Vec<(&Fix, &Finding)> = findings
        .iter()
        .filter_map(|f| Some((f.fix.as_ref()?, f)))
        .collect();
    let planned: Vec<(&Fix, bool)> = fixes
        .iter()
        .map(|(fix, f)| (*fix, state.webhook.mutates_unsafe(f.rule.id)))
        .collect();
    let plan = plan(&object.value, &planned);
    for (index, ops) in &plan.applied {
        let (fix, finding) = fixes[*index];
        outcome.counted.push((finding.rule.id, "fixed"));
        outcome.logged.push(json!({
            "rule": finding.rule.id,
            "fixed": finding.pointer,
            "ops": ops.len(),
        }));
        outcome.warnings.push(warning(&format!(
            "{} {}: changed by palisade: {} (at {})",
            finding.rule.id,
            finding.rule.slug,
            fix.description,
            field(&finding.pointer)
        )));
    }
    for ((_, finding), result) in fixes.iter().zip(&plan.outcomes) {
        if let FixOutcome::Invalid(reason) = result {
            outcome.logged.push(json!({
                "rule": finding.rule.id,
                "refused": finding.pointer,
                "reason": reason,
            }));
            outcome.warnings.push(warning(&format!(
                "{} {}: not changed by palisade: the object would be invalid: {reason}",
                finding.rule.id, finding.rule.slug
            )));
        }
    }
    cap_listed(outcome);
    let patch = plan.ops();
    let mut check = original.clone();
    let applies = apply(&mut check, &patch).is_ok();
    let before = violations(&original);
    let valid = applies && violations(&check).iter().all(|v| before.contains(v));
    if valid {
        outcome.patch = patch;
    } else {
        state.log.emit(|| {
            tracing::error!(
                ops = patch.len(),
                "dropped a patch that does not apply to the admitted object or makes it invalid"
            )
        });
        outcome.warnings.clear();
    }
}

/// A JSON pointer as a readable field path: `/spec/containers/0/image` → `spec.containers[0].image`.
fn field(pointer: &str) -> String {
    let mut out = String::new();
    for token in palisade_core::pointer::tokens(pointer) {
        if token.chars().all(|c| c.is_ascii_digit()) && !token.is_empty() {
            out.push('[');
            out.push_str(&token);
            out.push(']');
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

pub(crate) fn warning(text: &str) -> String {
    if text.len() <= MAX_WARNING {
        return text.to_owned();
    }
    let mut end = MAX_WARNING - 3;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_like_paths() {
        assert_eq!(
            field("/spec/containers/0/image"),
            "spec.containers[0].image"
        );
        assert_eq!(field("/metadata/labels/a~1b"), "metadata.labels.a/b");
        assert_eq!(field(""), ".");
    }

    #[test]
    fn values_are_counted_in_the_raw_text() {
        for (text, values) in [
            ("1", 1),
            (r#"{"a": 1, "b": [1, 2, {"c": "x,y[{"}]}"#, 7),
            (r#"["a\"b", "c\\", ","]"#, 4),
            (r#"{"a": {}}"#, 3),
        ] {
            assert_eq!(count_values(text.as_bytes()), values, "{text}");
            let exact = exact_values(&serde_json::from_str(text).unwrap());
            assert!(count_values(text.as_bytes()) >= exact, "{text}");
        }
    }

    fn exact_values(value: &Value) -> usize {
        1 + match value {
            Value::Array(items) => items.iter().map(exact_values).sum(),
            Value::Object(map) => map.values().map(exact_values).sum(),
            _ => 0,
        }
    }

    fn state(webhook: &str) -> State {
        let webhook = WebhookConfig::parse(webhook, "webhook.yaml").unwrap();
        State::new(
            palisade_rules::Config::default(),
            Vec::new(),
            Vec::new(),
            webhook,
            crate::log::LogSink::discard(),
        )
        .unwrap()
    }

    fn admit(state: &State, endpoint: Endpoint, annotations: Value) -> Value {
        let pod = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "a", "annotations": annotations},
            "spec": {"containers": [{"name": "c", "image": "c:1",
                "securityContext": {"privileged": true}}]},
        });
        let body = serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": "AdmissionReview",
            "request": {
                "uid": "u", "operation": "CREATE", "namespace": "a",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "object": pod,
            },
        });
        let reply = review(state, endpoint, body.to_string().as_bytes());
        assert_eq!(reply.status, 200);
        let reply: Value = serde_json::from_slice(&reply.body).unwrap();
        reply["response"].clone()
    }

    #[test]
    fn an_unknown_rule_in_the_ignore_annotation_is_a_warning_with_the_nearest_name() {
        let honoured = state("webhook:\n  honor-ignore-annotations: true\n");
        let annotations = serde_json::json!({
            "palisade.dev/ignore": "POD001, privileged-containr, nonsense-xyz",
            "palisade.dev/ignore-reason": "a node agent",
        });
        let response = admit(&honoured, Endpoint::Validate, annotations.clone());
        // POD001 is ignored; the two other names are reported, the first with its nearest.
        let denial = response["status"]["message"].as_str().unwrap_or_default();
        assert!(!denial.contains("POD001"), "{response}");
        let warnings: Vec<&str> = response["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|w| w.contains("palisade.dev/ignore"))
            .collect();
        assert_eq!(
            warnings,
            [
                "palisade: palisade.dev/ignore names an unknown rule \"privileged-containr\"; \
                 did you mean \"privileged-container\"?",
                "palisade: palisade.dev/ignore names an unknown rule \"nonsense-xyz\"",
            ],
            "{response}"
        );
        let mutated = admit(&honoured, Endpoint::Mutate, annotations.clone());
        assert!(
            mutated["warnings"]
                .to_string()
                .contains("privileged-containr"),
            "{mutated}"
        );
        // Where the annotation is not honoured, it is not read at all.
        let ignored = admit(&state(""), Endpoint::Validate, annotations);
        assert!(
            ignored["status"]["message"].to_string().contains("POD001"),
            "{ignored}"
        );
        assert!(!ignored.to_string().contains("unknown rule"), "{ignored}");
    }

    #[test]
    fn warnings_are_truncated_on_char_boundaries() {
        let long = "é".repeat(300);
        let short = warning(&long);
        assert!(short.len() <= MAX_WARNING);
        assert!(short.ends_with("..."));
        assert_eq!(warning("short"), "short");
    }
}
