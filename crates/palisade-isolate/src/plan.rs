//! The plan: every object `isolate` creates or changes, computed from the objects as they are
//! now. It is all that `--apply` does, and it is printed before anything happens.

use std::collections::BTreeMap;

use palisade_core::selector::{LabelSelector, Scalars};
use serde_json::{json, Map, Value};

use crate::yaml::to_yaml;
use crate::Error;

/// The label that marks a quarantined pod; its value is the incident id, and the incident's
/// NetworkPolicy selects exactly this label and value.
pub const QUARANTINE_LABEL: &str = "palisade.dev/quarantine";
/// The annotations written on the pod (and the NetworkPolicy).
pub const INCIDENT: &str = "palisade.dev/incident";
pub const REASON: &str = "palisade.dev/incident-reason";
pub const TIME: &str = "palisade.dev/incident-time";
pub const BY: &str = "palisade.dev/incident-by";
/// The labels `--detach` removed, as a JSON object, so that `--undo` can restore them.
pub const DETACHED: &str = "palisade.dev/detached-labels";
/// The pod a NetworkPolicy of an incident was made for.
pub const POD: &str = "palisade.dev/pod";

/// Who, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Lower-case letters, digits and `-`, at most 40 characters: it is a label value and
    /// part of the NetworkPolicy's name.
    pub id: String,
    pub reason: String,
    /// RFC 3339, UTC, to the second.
    pub time: String,
    /// The kubeconfig user that ran it.
    pub by: String,
}

impl Incident {
    /// An incident id made from the time (`inc-20261205-071300`).
    pub fn default_id(time: jiff::Timestamp) -> String {
        let utc = time.to_zoned(jiff::tz::TimeZone::UTC);
        format!("inc-{}", utc.strftime("%Y%m%d-%H%M%S"))
    }

    /// Checks an id given with `--incident`.
    pub fn check_id(id: &str) -> Result<(), Error> {
        let ok = !id.is_empty()
            && id.len() <= 40
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidIncident(id.to_owned()))
        }
    }

    /// The name of the incident's NetworkPolicy.
    pub fn policy_name(&self) -> String {
        policy_name(&self.id)
    }
}

pub fn policy_name(id: &str) -> String {
    format!("palisade-quarantine-{id}")
}

/// A label `--detach` removes, and what selects the pod with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detached {
    pub key: String,
    pub value: String,
    /// `Service ns/web`, `ReplicaSet ns/web-5d4f…`.
    pub selected_by: Vec<String>,
}

/// What happens to the incident's NetworkPolicy.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyAction {
    Create,
    /// It exists with another spec (edited by hand): its spec is replaced with this merge
    /// patch.
    Update(Value),
    Unchanged,
}

/// Everything `--apply` would do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub namespace: String,
    pub pod: String,
    pub incident: Incident,
    /// The NetworkPolicy as it will be.
    pub policy: Value,
    pub policy_action: PolicyAction,
    /// The pod's metadata (labels and annotations) now and after.
    pub metadata_before: Value,
    pub metadata_after: Value,
    /// The strategic merge patch of the pod; `None` when it has everything already.
    pub pod_patch: Option<Value>,
    pub detach: Vec<Detached>,
    /// What detaching does, in words (empty without `--detach`).
    pub detach_notes: Vec<String>,
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn str_at<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The NetworkPolicy that isolates the incident's pods: both directions, no rule.
pub fn quarantine_policy(namespace: &str, pod: &str, incident: &Incident) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": incident.policy_name(),
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/managed-by": "palisade",
                INCIDENT: incident.id,
            },
            "annotations": {
                INCIDENT: incident.id,
                REASON: incident.reason,
                TIME: incident.time,
                BY: incident.by,
                POD: pod,
            },
        },
        "spec": {
            "podSelector": {"matchLabels": {QUARANTINE_LABEL: incident.id}},
            "policyTypes": ["Ingress", "Egress"],
        },
    })
}

/// Whether an existing policy's spec is the quarantine spec (no rule in either direction).
fn same_spec(existing: &Value, desired: &Value) -> bool {
    let spec = existing.get("spec").cloned().unwrap_or_default();
    let rules_empty = |key: &str| {
        spec.get(key)
            .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
    };
    spec.get("podSelector") == desired.pointer("/spec/podSelector")
        && spec.get("policyTypes") == desired.pointer("/spec/policyTypes")
        && rules_empty("ingress")
        && rules_empty("egress")
}

/// The keys (and values) of the pod's labels that a selector requires: removing any of them
/// makes the selector stop matching the pod.
fn required_keys(selector: &Value, labels: &BTreeMap<String, String>) -> Vec<String> {
    let Ok(parsed) = LabelSelector::parse(selector, Scalars::Strict) else {
        return Vec::new();
    };
    if parsed.is_empty() || !parsed.matches(labels) {
        return Vec::new();
    }
    parsed
        .requirements()
        .iter()
        .map(|r| r.key().to_owned())
        .filter(|k| labels.contains_key(k))
        .collect()
}

/// The input of [`plan`]: the objects as they are now.
pub struct Current<'a> {
    pub pod: &'a Value,
    /// The incident's NetworkPolicy, when it exists.
    pub policy: Option<&'a Value>,
    /// The namespace's Services.
    pub services: &'a [Value],
    /// The pod's controller (its owner with `controller: true`), when it has one.
    pub controller: Option<&'a Value>,
}

/// Plans the quarantine of the pod for the incident (and its detaching).
pub fn plan(current: &Current<'_>, incident: &Incident, detach: bool) -> Result<Plan, Error> {
    let pod = current.pod;
    let namespace = str_at(pod, "/metadata/namespace").to_owned();
    let name = str_at(pod, "/metadata/name").to_owned();
    let labels = labels_of(pod);
    if let Some(other) = labels.get(QUARANTINE_LABEL).filter(|v| **v != incident.id) {
        return Err(Error::OtherIncident {
            pod: format!("{namespace}/{name}"),
            incident: other.clone(),
        });
    }
    let policy = quarantine_policy(&namespace, &name, incident);
    let policy_action = match current.policy {
        None => PolicyAction::Create,
        Some(existing) if same_spec(existing, &policy) => PolicyAction::Unchanged,
        Some(_) => PolicyAction::Update(json!({"spec": {
            "podSelector": policy["spec"]["podSelector"],
            "policyTypes": policy["spec"]["policyTypes"],
            "ingress": null,
            "egress": null,
        }})),
    };

    // Detaching: the labels the Services and the controller select the pod with.
    let mut detach_labels: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut detach_notes = Vec::new();
    if detach {
        for service in current.services {
            let Some(selector) = service
                .pointer("/spec/selector")
                .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
            else {
                continue;
            };
            let as_label_selector = json!({"matchLabels": selector});
            let who = format!("Service {namespace}/{}", str_at(service, "/metadata/name"));
            for key in required_keys(&as_label_selector, &labels) {
                detach_labels.entry(key).or_default().push(who.clone());
            }
        }
        if let Some(controller) = current.controller {
            let kind = str_at(controller, "/kind");
            let selector = controller
                .pointer("/spec/selector")
                .cloned()
                .unwrap_or_default();
            // A ReplicationController's selector is a plain map.
            let selector = if kind == "ReplicationController" {
                json!({"matchLabels": selector})
            } else {
                selector
            };
            let who = format!(
                "{kind} {namespace}/{}",
                str_at(controller, "/metadata/name")
            );
            for key in required_keys(&selector, &labels) {
                detach_labels.entry(key).or_default().push(who.clone());
            }
            let note = match kind {
                "StatefulSet" => format!(
                    "{who} stops owning the pod; it cannot start a replacement with the same name while the pod exists, so the StatefulSet runs one pod short until the pod is deleted."
                ),
                "Job" => format!(
                    "{who} stops counting the pod and starts another one if it still needs completions."
                ),
                _ => format!(
                    "{who} releases the pod (its ownerReference is removed) and starts a replacement; the pod keeps running for analysis."
                ),
            };
            detach_notes.push(note);
        }
        detach_labels.remove(QUARANTINE_LABEL);
        let by_service = detach_labels
            .values()
            .flatten()
            .any(|who| who.starts_with("Service "));
        if by_service {
            detach_notes.push(
                "The Services that select the pod drop it from their endpoints: no new traffic is sent to it through them.".to_owned(),
            );
        }
        if detach_labels.is_empty() {
            detach_notes.push(
                "No Service and no controller selects the pod: there is nothing to detach."
                    .to_owned(),
            );
        }
    }
    let detach: Vec<Detached> = detach_labels
        .into_iter()
        .map(|(key, selected_by)| Detached {
            value: labels.get(&key).cloned().unwrap_or_default(),
            key,
            selected_by,
        })
        .collect();

    // The pod's labels and annotations after. An incident already recorded keeps its time,
    // reason and author, so that running again changes nothing.
    let metadata_before = json!({
        "labels": pod.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
        "annotations": pod.pointer("/metadata/annotations").cloned().unwrap_or(json!({})),
    });
    let annotations = metadata_before["annotations"].clone();
    let recorded = annotations.get(INCIDENT).and_then(Value::as_str) == Some(incident.id.as_str());
    let mut label_patch = Map::new();
    let mut annotation_patch = Map::new();
    if labels.get(QUARANTINE_LABEL) != Some(&incident.id) {
        label_patch.insert(QUARANTINE_LABEL.to_owned(), json!(incident.id));
    }
    for d in &detach {
        label_patch.insert(d.key.clone(), Value::Null);
    }
    if !recorded {
        annotation_patch.insert(INCIDENT.to_owned(), json!(incident.id));
        annotation_patch.insert(REASON.to_owned(), json!(incident.reason));
        annotation_patch.insert(TIME.to_owned(), json!(incident.time));
        annotation_patch.insert(BY.to_owned(), json!(incident.by));
    }
    if !detach.is_empty() {
        // Labels removed by an earlier run of the same incident are kept with these.
        let mut removed: Map<String, Value> = annotations
            .get(DETACHED)
            .and_then(Value::as_str)
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default();
        for d in &detach {
            removed.insert(d.key.clone(), json!(d.value));
        }
        let text = Value::Object(removed).to_string();
        if annotations.get(DETACHED).and_then(Value::as_str) != Some(text.as_str()) {
            annotation_patch.insert(DETACHED.to_owned(), json!(text));
        }
    }
    let mut pod_patch = Map::new();
    if !label_patch.is_empty() {
        pod_patch.insert("labels".into(), Value::Object(label_patch));
    }
    if !annotation_patch.is_empty() {
        pod_patch.insert("annotations".into(), Value::Object(annotation_patch));
    }
    let pod_patch = (!pod_patch.is_empty()).then(|| json!({"metadata": pod_patch}));
    let mut metadata_after = metadata_before.clone();
    if let Some(patch) = &pod_patch {
        merge(&mut metadata_after, &patch["metadata"]);
    }
    Ok(Plan {
        namespace,
        pod: name,
        incident: incident.clone(),
        policy,
        policy_action,
        metadata_before,
        metadata_after,
        pod_patch,
        detach,
        detach_notes,
    })
}

/// RFC 7386 merge, as the API server applies a merge patch to maps.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(map) = target.as_object_mut() {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

impl Plan {
    /// Whether applying it changes anything.
    pub fn changes_anything(&self) -> bool {
        self.policy_action != PolicyAction::Unchanged || self.pod_patch.is_some()
    }

    /// The plan in text: each object as YAML, then the diff of each change.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let ns = &self.namespace;
        let policy_name = self.incident.policy_name();
        let action = match self.policy_action {
            PolicyAction::Create => "create",
            PolicyAction::Update(_) => "update: its spec was changed, it is put back",
            PolicyAction::Unchanged => "unchanged: it exists already",
        };
        out.push_str(&format!(
            "# 1. NetworkPolicy {ns}/{policy_name} ({action})\n#    Selects only pods labelled {QUARANTINE_LABEL}={}; with both policy types and no rule, it denies all their ingress and egress.\n",
            self.incident.id
        ));
        out.push_str(&to_yaml(&self.policy));
        let pod_action = if self.pod_patch.is_some() {
            "labels and annotations changed"
        } else {
            "unchanged: it has them already"
        };
        out.push_str(&format!("\n# 2. Pod {ns}/{} ({pod_action})\n", self.pod));
        out.push_str(&to_yaml(&json!({"metadata": shown(&self.metadata_after)})));
        let others = other_annotations(&self.metadata_after);
        if others > 0 {
            out.push_str(&format!(
                "#   ({others} other annotation(s), not shown: they do not change and may hold copies of the pod's spec)\n"
            ));
        }
        if !self.detach.is_empty() || !self.detach_notes.is_empty() {
            out.push_str("\n# Detaching (--detach)\n");
            for d in &self.detach {
                out.push_str(&format!(
                    "#   removes label {}={} (selected on by {})\n",
                    d.key,
                    d.value,
                    d.selected_by.join(", ")
                ));
            }
            for note in &self.detach_notes {
                out.push_str(&format!("#   {note}\n"));
            }
        }
        out.push_str("\n# Diff\n");
        out.push_str(&self.diff());
        out
    }

    /// The changes as a unified diff of the YAML before and after.
    pub fn diff(&self) -> String {
        let ns = &self.namespace;
        let mut out = String::new();
        let policy_before = match self.policy_action {
            PolicyAction::Create => String::new(),
            // The spec that will be replaced is not known here in full; show the result.
            PolicyAction::Update(_) | PolicyAction::Unchanged => to_yaml(&self.policy),
        };
        if self.policy_action != PolicyAction::Unchanged {
            out.push_str(&unified(
                &policy_before,
                &to_yaml(&self.policy),
                &format!("networkpolicies/{ns}/{}", self.incident.policy_name()),
            ));
        }
        let before = to_yaml(&json!({"metadata": shown(&self.metadata_before)}));
        let after = to_yaml(&json!({"metadata": shown(&self.metadata_after)}));
        out.push_str(&unified(
            &before,
            &after,
            &format!("pods/{ns}/{}", self.pod),
        ));
        if out.is_empty() {
            out.push_str("(no change)\n");
        }
        out
    }
}

/// Whether an annotation is one of palisade's (the only ones the plan changes).
fn ours(key: &str) -> bool {
    key.starts_with("palisade.dev/")
}

/// The pod's metadata as the plan prints it: its labels, and palisade's annotations. Other
/// annotations are left out: they do not change, and one such as
/// `kubectl.kubernetes.io/last-applied-configuration` holds the pod's spec, environment values
/// included, which a plan must not print.
fn shown(metadata: &Value) -> Value {
    let annotations: Map<String, Value> = metadata
        .get("annotations")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| ours(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    json!({"labels": metadata.get("labels").cloned().unwrap_or(json!({})), "annotations": annotations})
}

fn other_annotations(metadata: &Value) -> usize {
    metadata
        .get("annotations")
        .and_then(Value::as_object)
        .map_or(0, |m| m.keys().filter(|k| !ours(k)).count())
}

/// A unified diff of two texts; empty when they are the same.
pub fn unified(before: &str, after: &str, name: &str) -> String {
    if before == after {
        return String::new();
    }
    let diff = similar::TextDiff::from_lines(before, after);
    diff.unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> Incident {
        Incident {
            id: "inc-1".into(),
            reason: "crypto miner".into(),
            time: "2026-12-05T07:00:00Z".into(),
            by: "alice".into(),
        }
    }

    fn pod() -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": "web-5d4f-abcde", "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "5d4f"},
        }})
    }

    #[test]
    fn the_plan_labels_annotates_and_creates_a_deny_all_policy() {
        let pod = pod();
        let current = Current {
            pod: &pod,
            policy: None,
            services: &[],
            controller: None,
        };
        let plan = plan(&current, &incident(), false).unwrap();
        assert_eq!(plan.policy_action, PolicyAction::Create);
        assert_eq!(
            plan.policy["spec"],
            json!({"podSelector": {"matchLabels": {QUARANTINE_LABEL: "inc-1"}}, "policyTypes": ["Ingress", "Egress"]})
        );
        assert_eq!(plan.metadata_after["labels"][QUARANTINE_LABEL], "inc-1");
        assert_eq!(plan.metadata_after["annotations"][BY], "alice");
        let diff = plan.diff();
        assert!(
            diff.contains("+    palisade.dev/quarantine: inc-1"),
            "{diff}"
        );
        assert!(
            diff.contains("+    palisade.dev/incident-reason: crypto miner"),
            "{diff}"
        );
    }

    #[test]
    fn a_second_plan_after_applying_changes_nothing() {
        let pod = pod();
        let first = plan(
            &Current {
                pod: &pod,
                policy: None,
                services: &[],
                controller: None,
            },
            &incident(),
            false,
        )
        .unwrap();
        let mut applied = pod.clone();
        merge(&mut applied, first.pod_patch.as_ref().unwrap());
        // A later run has a later time: the recorded one is kept.
        let later = Incident {
            time: "2026-12-05T08:00:00Z".into(),
            ..incident()
        };
        let current = Current {
            pod: &applied,
            policy: Some(&first.policy),
            services: &[],
            controller: None,
        };
        let second = plan(&current, &later, false).unwrap();
        assert!(!second.changes_anything(), "{second:?}");
        assert_eq!(second.diff(), "(no change)\n");
    }

    #[test]
    fn other_annotations_are_not_printed() {
        let mut pod = pod();
        pod["metadata"]["annotations"] = json!({
            "kubectl.kubernetes.io/last-applied-configuration": "{\"spec\":{\"env\":[{\"value\":\"hunter2\"}]}}",
        });
        let current = Current {
            pod: &pod,
            policy: None,
            services: &[],
            controller: None,
        };
        let plan = plan(&current, &incident(), false).unwrap();
        let text = plan.render();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("(1 other annotation(s), not shown"), "{text}");
        // The patch leaves them alone.
        assert!(plan.pod_patch.unwrap()["metadata"]["annotations"]
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .is_none());
    }

    #[test]
    fn a_pod_of_another_incident_is_refused() {
        let mut pod = pod();
        pod["metadata"]["labels"][QUARANTINE_LABEL] = json!("inc-0");
        let current = Current {
            pod: &pod,
            policy: None,
            services: &[],
            controller: None,
        };
        let err = plan(&current, &incident(), false).unwrap_err();
        assert!(err.to_string().contains("inc-0"), "{err}");
    }

    #[test]
    fn detaching_removes_the_labels_services_and_the_controller_select_on() {
        let pod = pod();
        let services = [
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}}}),
            json!({"metadata": {"name": "other"}, "spec": {"selector": {"app": "db"}}}),
        ];
        let rs = json!({"kind": "ReplicaSet", "metadata": {"name": "web-5d4f"}, "spec": {
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f"}}}});
        let current = Current {
            pod: &pod,
            policy: None,
            services: &services,
            controller: Some(&rs),
        };
        let plan = plan(&current, &incident(), true).unwrap();
        let keys: Vec<&str> = plan.detach.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, ["app", "pod-template-hash"]);
        assert_eq!(
            plan.detach[0].selected_by,
            ["Service shop/web", "ReplicaSet shop/web-5d4f"]
        );
        assert_eq!(
            plan.metadata_after["labels"],
            json!({QUARANTINE_LABEL: "inc-1"})
        );
        let saved: Value = serde_json::from_str(
            plan.metadata_after["annotations"][DETACHED]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(saved, json!({"app": "web", "pod-template-hash": "5d4f"}));
        assert!(
            plan.render().contains("releases the pod"),
            "{}",
            plan.render()
        );
    }

    #[test]
    fn incident_ids_are_label_values_and_name_parts() {
        assert!(Incident::check_id("inc-20261205-071300").is_ok());
        for bad in ["", "Inc-1", "a/b", "-a", "a-", &"x".repeat(41)] {
            assert!(Incident::check_id(bad).is_err(), "{bad}");
        }
        let t: jiff::Timestamp = "2026-12-05T07:13:00Z".parse().unwrap();
        assert_eq!(Incident::default_id(t), "inc-20261205-071300");
    }
}
