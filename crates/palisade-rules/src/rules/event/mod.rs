//! Rules over Kubernetes audit events (`checks: Event`), and the runner that feeds them: each
//! event goes through the selected event rules, and the object a create or update carries
//! (`requestObject`) goes through the per-object rules, so that a privileged pod created in the
//! cluster is `POD001` as in CI and at admission.

pub mod audit_anonymous_request_allowed;
pub mod audit_auth_failure_spike;
pub mod audit_cluster_admin_binding;
pub mod audit_ephemeral_container;
pub mod audit_kube_namespace_binding;
pub mod audit_kube_namespace_pod;
pub mod audit_kube_namespace_serviceaccount;
pub mod audit_node_created;
pub mod audit_pod_exec;
pub mod audit_pod_port_forward;
pub mod audit_role_dangerous_grant;
pub mod audit_secret_read;
pub mod audit_system_role_changed;

use std::sync::Arc;

use palisade_audit::{
    Alert, AuthFailures, Event, FailureSpike, Item, OutputFields, Priority, Request, Ruleset,
};
use palisade_core::rule::{RuleMeta, Severity};
use palisade_core::{Object, Redactor};
use rayon::prelude::*;
use serde_json::Value;

use crate::registry::{Checker, EventCx};
use crate::{Engine, Rule};

/// The namespaces of the control plane, where nothing new should appear unannounced.
pub const KUBE_NAMESPACES: &[&str] = &["kube-system", "kube-public"];

/// The window and count of [`audit_auth_failure_spike`]: 10 failed requests (401 or 403) from
/// one user and address within 60 seconds.
pub const FAILURE_WINDOW_SECS: u64 = 60;
pub const FAILURE_THRESHOLD: usize = 10;

/// Whether a user name is one of the cluster's own identities (`system:…`).
pub fn is_system_user(user: &str) -> bool {
    user.starts_with("system:")
}

/// "user alice" or "user system:anonymous", for messages.
pub fn who(req: &Request<'_>) -> String {
    match req.user() {
        "" => "an unauthenticated user".to_owned(),
        u => format!("user {u}"),
    }
}

/// `ns/name`, or `name` for a cluster-scoped object.
pub fn target(req: &Request<'_>) -> String {
    match (req.namespace(), req.name()) {
        ("", name) => name.to_owned(),
        (ns, name) => format!("{ns}/{name}"),
    }
}

/// A finding on an audit event.
#[derive(Debug, Clone)]
pub struct EventFinding {
    pub rule: &'static RuleMeta,
    pub severity: Severity,
    pub message: String,
    /// JSON pointer into the event (for an object rule: into `/requestObject`).
    pub pointer: String,
    /// Credentials the finding is about: outputs mask them.
    pub secrets: Vec<String>,
}

/// Runs the selected event rules, and the per-object rules on request objects, over a stream of
/// audit events. Keeps the state of the windowed analyses between events.
pub struct EventRunner {
    engine: Arc<Engine>,
    rules: Vec<&'static dyn Rule>,
    failures: AuthFailures,
}

impl EventRunner {
    pub fn new(engine: Arc<Engine>) -> Self {
        let rules = Self::event_rules(&engine);
        EventRunner {
            engine,
            rules,
            failures: AuthFailures::new(FAILURE_WINDOW_SECS, FAILURE_THRESHOLD),
        }
    }

    /// Goes on with another engine (a reloaded configuration), keeping the windows' state.
    pub fn set_engine(&mut self, engine: Arc<Engine>) {
        if !Arc::ptr_eq(&engine, &self.engine) {
            self.rules = Self::event_rules(&engine);
            self.engine = engine;
        }
    }

    fn event_rules(engine: &Engine) -> Vec<&'static dyn Rule> {
        engine
            .rules()
            .iter()
            .copied()
            .filter(|r| matches!(r.checker(), Checker::Event(_)))
            .collect()
    }

    /// The findings on one event, in rule order: event rules first, then the request object's.
    pub fn check(&mut self, event: &Event) -> Vec<EventFinding> {
        let spike = self.observe(event);
        self.findings(event, spike.as_ref())
    }

    /// The part of an event that needs log order: the windowed analyses. Call it for every
    /// event, in order, before [`EventRunner::findings`] (which may then run in parallel).
    pub fn observe(&mut self, event: &Event) -> Option<FailureSpike> {
        self.failures.observe(event)
    }

    /// The findings on one event, given what [`EventRunner::observe`] said of it.
    pub fn findings(&self, event: &Event, spike: Option<&FailureSpike>) -> Vec<EventFinding> {
        let cx = EventCx {
            event,
            request: Request::new(event),
            settings: self.engine.settings(),
            failure_spike: spike,
        };
        let mut out = Vec::new();
        for rule in &self.rules {
            let Checker::Event(check) = rule.checker() else {
                continue;
            };
            let mut emits = Vec::new();
            check.check_event(&cx, &mut emits);
            if emits.is_empty() {
                continue;
            }
            let meta = rule.meta();
            // The configuration's severity wins, as the engine does for every other rule.
            let overridden = self.engine.severity_override(meta.id);
            out.extend(emits.into_iter().map(|e| EventFinding {
                rule: meta,
                severity: overridden.or(e.severity).unwrap_or(meta.severity),
                message: e.message,
                pointer: e.pointer,
                secrets: e.secrets,
            }));
        }
        out.extend(self.request_object_findings(&cx.request));
        out
    }

    /// The per-object rules on the object a successful create or update sent.
    fn request_object_findings(&self, req: &Request<'_>) -> Vec<EventFinding> {
        if !req.complete()
            || !matches!(req.verb(), "create" | "update")
            || !req.subresource().is_empty()
            || req.code().is_some_and(|c| !(200..300).contains(&c))
        {
            return Vec::new();
        }
        // Decoding the object is most of the work: not when no selected rule can report it.
        let event = req.event;
        if let Some(kind) = event.str_path(&["requestObject", "kind"]) {
            if !self.object_rules_may_fire(event, kind) {
                return Vec::new();
            }
        }
        // The event's own copy is not needed: decoding the object anew costs what decoding it
        // into the event would, and saves a deep copy to add the fields below.
        let Some(mut value) = req.request_object_owned() else {
            return Vec::new();
        };
        if value.get("kind").is_none() {
            return Vec::new();
        }
        // The version is the request's when the object does not say it.
        if value.get("apiVersion").is_none() {
            let part = |k: &str| event.str_path(&["objectRef", k]);
            let version = match (part("apiGroup").unwrap_or(""), part("apiVersion")) {
                (_, None) => return Vec::new(),
                ("", Some(v)) => v.to_owned(),
                (g, Some(v)) => format!("{g}/{v}"),
            };
            if let Some(map) = value.as_object_mut() {
                map.insert("apiVersion".to_owned(), version.into());
            }
        }
        // The namespace is the request's when the object does not say it.
        if let (Some(meta), ns) = (
            value.get_mut("metadata").and_then(|m| m.as_object_mut()),
            req.namespace(),
        ) {
            if !ns.is_empty() && !meta.contains_key("namespace") {
                meta.insert("namespace".to_owned(), ns.into());
            }
        }
        let object = Object::from_value(value, &format!("{}:{}", event.file, event.line));
        // Alerts show neither fixes nor positions: the engine computes neither.
        self.engine
            .check_object_for_alerts(&object)
            .into_iter()
            .map(|(rule, severity, emit)| EventFinding {
                rule,
                severity,
                message: emit.message,
                pointer: format!("/requestObject{}", emit.pointer),
                secrets: emit.secrets,
            })
            .collect()
    }

    /// Whether a selected per-object rule that reads `kind` could report the request object of
    /// `event` (whose `kind` it is), as the rules declare
    /// ([`crate::ObjectRule::may_report_request_object`]).
    fn object_rules_may_fire(&self, event: &Event, kind: &str) -> bool {
        let object = crate::RequestObject { kind, event };
        self.engine.rules().iter().any(|rule| match rule.checker() {
            Checker::Object(r) => {
                let kinds = rule.meta().kinds;
                (kinds.contains(&"*") || kinds.contains(&kind))
                    && r.may_report_request_object(&object)
            }
            _ => false,
        })
    }
}

/// Everything `palisade audit` runs on each event: palisade's own detections (when selected)
/// and the Falco rules, as alerts.
pub struct AuditPipeline {
    pub runner: Option<EventRunner>,
    pub falco: Ruleset,
    hostname: Arc<str>,
}

impl AuditPipeline {
    pub fn new(runner: Option<EventRunner>, falco: Ruleset) -> Self {
        AuditPipeline {
            runner,
            falco,
            hostname: palisade_audit::rules::hostname(),
        }
    }

    /// The alerts of one event: palisade's findings first, then the Falco rules' alerts.
    pub fn alerts(&mut self, event: &Event) -> Vec<Alert> {
        let spike = self.runner.as_mut().and_then(|r| r.observe(event));
        self.alerts_with(event, spike.as_ref())
    }

    fn alerts_with(&self, event: &Event, spike: Option<&FailureSpike>) -> Vec<Alert> {
        let mut out = Vec::new();
        if let Some(runner) = &self.runner {
            for finding in runner.findings(event, spike) {
                out.push(finding_alert(event, finding, &self.hostname));
            }
        }
        self.falco.evaluate(event, &mut |alert| out.push(alert));
        out
    }

    /// A batch of items, the events evaluated on rayon's threads after the windowed analyses
    /// have seen them in input order: `each` gets every item with its alerts (none for an input
    /// error) on the thread that evaluated it, to render and free them there in the same
    /// parallel step, and its results come back in input order.
    pub fn batch<T: Send>(
        &mut self,
        items: Vec<Item>,
        each: impl Fn(Item, Vec<Alert>) -> T + Sync + Send,
    ) -> Vec<T> {
        let spikes = self.observe(&items);
        let this = &*self;
        items
            .into_par_iter()
            .enumerate()
            .map(|(i, item)| {
                let alerts = this.item_alerts(&item, &spikes, i);
                each(item, alerts)
            })
            .collect()
    }

    /// The windowed analyses over the events of a batch, in input order: the spike each event
    /// ends, if any.
    fn observe(&mut self, items: &[Item]) -> Vec<Option<FailureSpike>> {
        match self.runner.as_mut() {
            Some(runner) => items
                .iter()
                .map(|item| match item {
                    Item::Event(event) => runner.observe(event),
                    Item::Error(_) => None,
                })
                .collect(),
            None => Vec::new(),
        }
    }

    fn item_alerts(&self, item: &Item, spikes: &[Option<FailureSpike>], i: usize) -> Vec<Alert> {
        match item {
            Item::Event(event) => self.alerts_with(event, spikes.get(i).and_then(Option::as_ref)),
            Item::Error(_) => Vec::new(),
        }
    }
}

/// The priority of a palisade finding among Falco's.
pub fn priority_of(severity: Severity) -> Priority {
    match severity {
        Severity::Critical => Priority::Critical,
        Severity::High => Priority::Error,
        Severity::Medium => Priority::Warning,
        Severity::Low => Priority::Notice,
        Severity::Info => Priority::Informational,
    }
}

/// A palisade finding on an event, as a Falco alert: the rule is the rule's ID, the output
/// `ID message (user=… verb=… target=… at file:line)`, credentials masked.
pub fn finding_alert(event: &Event, finding: EventFinding, hostname: &Arc<str>) -> Alert {
    let redactor = Redactor::new(&finding.secrets).ok();
    let req = Request::new(event);
    let message = format!(
        "{} {} (user={} verb={} resource={} ns={} name={} at {}:{})",
        finding.rule.id,
        finding.message,
        req.user(),
        req.verb(),
        req.resource(),
        req.namespace(),
        req.name(),
        event.file,
        event.line
    );
    let message = match &redactor {
        Some(r) => r.redact(&message).into_owned(),
        None if finding.secrets.is_empty() => message,
        None => format!(
            "{} (message withheld: it names a credential)",
            finding.rule.id
        ),
    };
    let fields = OutputFields::new(vec![
        (
            "palisade.rule".into(),
            Value::String(finding.rule.id.to_owned()),
        ),
        (
            "palisade.slug".into(),
            Value::String(finding.rule.slug.to_owned()),
        ),
        ("palisade.pointer".into(), Value::String(finding.pointer)),
        (
            "palisade.severity".into(),
            Value::String(finding.severity.to_string()),
        ),
        ("ka.auditid".into(), str_or_null(event, &["auditID"])),
        (
            "ka.user.name".into(),
            str_or_null(event, &["user", "username"]),
        ),
        ("ka.verb".into(), str_or_null(event, &["verb"])),
        (
            "ka.target.resource".into(),
            str_or_null(event, &["objectRef", "resource"]),
        ),
        (
            "ka.target.namespace".into(),
            str_or_null(event, &["objectRef", "namespace"]),
        ),
        (
            "ka.target.name".into(),
            str_or_null(event, &["objectRef", "name"]),
        ),
    ]);
    Alert {
        rule: Arc::from(finding.rule.id),
        priority: priority_of(finding.severity),
        time_ns: event.time_ns,
        message,
        output_fields: fields,
        tags: Arc::from(vec![
            "palisade".to_owned(),
            finding.rule.category.to_owned(),
        ]),
        hostname: hostname.clone(),
        file: event.file.clone(),
        line: event.line,
    }
}

fn str_or_null(event: &Event, keys: &[&str]) -> Value {
    event
        .str_path(keys)
        .map_or(Value::Null, |s| Value::String(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use palisade_core::{load_str, Limits};

    use crate::Engine;

    /// A request object that [`super::EventRunner::object_rules_may_fire`] skips has no
    /// findings; one it keeps here has (the rules that declare what they cannot report are the
    /// ones meant).
    #[test]
    fn request_objects_skipped_have_no_findings() {
        use std::sync::Arc;

        use palisade_audit::Event;
        use palisade_core::Object;
        use serde_json::json;

        let engine =
            Arc::new(Engine::new(&crate::Config::default(), &["ALL".to_owned()], &[]).unwrap());
        let runner = super::EventRunner::new(engine.clone());
        let event = |object: serde_json::Value| {
            let value = json!({
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "stage": "ResponseComplete",
                "stageTimestamp": "2026-12-05T10:00:00.000000Z", "verb": "create",
                "objectRef": {"resource": "events", "namespace": "default", "apiVersion": "v1"},
                "requestObject": object,
            });
            Event::from_value(value, Arc::from("audit.log"), 1).unwrap()
        };
        let check = |object: serde_json::Value| {
            let may_fire = runner
                .object_rules_may_fire(&event(object.clone()), object["kind"].as_str().unwrap());
            let found: Vec<_> = engine
                .check_object_for_alerts(&Object::from_value(object, "audit.log:1"))
                .into_iter()
                .map(|(rule, _, _)| rule.id)
                .collect();
            (may_fire, found)
        };
        let plain = json!({"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": "web.1", "namespace": "default"}, "reason": "Pulled"});
        assert_eq!(check(plain), (false, vec![]));
        let annotated = json!({"kind": "Event", "apiVersion": "v1", "metadata": {"name": "web.1",
            "namespace": "default", "annotations": {"token": "ghp_R2d9kQx7LmP4sT8vW1yZ3aB6cD0eF5gH2jK9"}}});
        assert_eq!(check(annotated), (true, vec!["SEC002"]));
        let lease = json!({"kind": "Lease", "apiVersion": "coordination.k8s.io/v1",
            "metadata": {"name": "node-1", "namespace": "default"}});
        assert_eq!(check(lease), (true, vec!["POD018"]));
    }

    /// The findings audit alerts take from the per-object rules are those of `check_object`
    /// (same rules, severities, messages, pointers and credentials, in the same order), built
    /// without fixes, on every rule fixture and with every rule selected.
    #[test]
    fn findings_for_alerts_are_the_object_findings_without_fixes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let engine = Engine::new(&crate::Config::default(), &["ALL".to_owned()], &[]).unwrap();
        let (mut objects, mut findings) = (0, 0);
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let loaded = load_str(&text, &path.display().to_string(), &Limits::default());
            for object in &loaded.objects {
                objects += 1;
                let full: Vec<_> = engine
                    .check_object(object)
                    .into_iter()
                    .map(|f| (f.rule.id, f.severity, f.message, f.pointer, f.secrets))
                    .collect();
                let for_alerts = engine.check_object_for_alerts(object);
                assert!(for_alerts.iter().all(|(_, _, e)| e.fix.is_none()));
                let for_alerts: Vec<_> = for_alerts
                    .into_iter()
                    .map(|(rule, severity, e)| (rule.id, severity, e.message, e.pointer, e.secrets))
                    .collect();
                assert_eq!(full, for_alerts, "{}", path.display());
                findings += full.len();
            }
        }
        assert!(
            objects > 100 && findings > 100,
            "{objects} objects, {findings} findings"
        );
    }
}
