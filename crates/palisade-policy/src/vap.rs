//! ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
//! (`admissionregistration.k8s.io/v1`), evaluated as the API server does: the policy's
//! `matchConstraints` and the binding's `matchResources`, `matchConditions`, `variables`,
//! `validations`, `paramKind` with the binding's `paramRef`, and `failurePolicy`.

use std::collections::BTreeMap;
use std::sync::Arc;

use palisade_core::selector::{LabelSelector, Scalars};
use serde_json::Value;

use crate::cel::CelProgram;
use crate::matching::labels_of;
use crate::review::{Operation, Review};

pub const VAP_GROUP: &str = "admissionregistration.k8s.io";

/// The resource name of a kind, as `resourceRules` name it (`Deployment` → `deployments`).
pub fn resource_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with("endpoints") {
        lower
    } else if let Some(stem) = lower
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        format!("{lower}es")
    } else {
        format!("{lower}s")
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn any(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

/// One `resourceRules` entry.
#[derive(Debug, Clone)]
struct ResourceRule {
    groups: Vec<String>,
    versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    names: Vec<String>,
    scope: String,
}

impl ResourceRule {
    fn parse(v: &Value) -> ResourceRule {
        ResourceRule {
            groups: strings(v.get("apiGroups")),
            versions: strings(v.get("apiVersions")),
            resources: strings(v.get("resources")),
            operations: strings(v.get("operations")),
            names: strings(v.get("resourceNames")),
            scope: v
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_owned(),
        }
    }

    fn matches(&self, t: &VapTarget<'_>) -> bool {
        let scope = match self.scope.as_str() {
            "Cluster" => t.namespace.is_empty(),
            "Namespaced" => !t.namespace.is_empty(),
            _ => true,
        };
        scope
            && any(&self.groups, t.group)
            && any(&self.versions, t.version)
            && (any(&self.resources, &t.resource) || self.resources.iter().any(|r| r == "*/*"))
            && any(&self.operations, t.operation)
            && (self.names.is_empty() || self.names.iter().any(|n| n == t.name))
    }
}

/// `matchConstraints` or `matchResources`.
#[derive(Debug, Clone, Default)]
struct MatchResources {
    rules: Vec<ResourceRule>,
    excluded: Vec<ResourceRule>,
    namespace_selector: Option<LabelSelector>,
    object_selector: Option<LabelSelector>,
}

impl MatchResources {
    fn parse(v: Option<&Value>) -> Result<MatchResources, String> {
        let Some(v) = v.filter(|v| v.is_object()) else {
            return Ok(MatchResources::default());
        };
        let rules = |key: &str| {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| a.iter().map(ResourceRule::parse).collect())
                .unwrap_or_default()
        };
        let selector = |key: &str| match v.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(s) => LabelSelector::parse(s, Scalars::Strict)
                .map(Some)
                .map_err(|e| format!("{key}: {e}")),
        };
        Ok(MatchResources {
            rules: rules("resourceRules"),
            excluded: rules("excludeResourceRules"),
            namespace_selector: selector("namespaceSelector")?,
            object_selector: selector("objectSelector")?,
        })
    }

    /// `require_rules`: a policy's `matchConstraints` must list rules; a binding's
    /// `matchResources` may leave them out (then it narrows by selectors only).
    fn matches(&self, t: &VapTarget<'_>, require_rules: bool) -> bool {
        if (require_rules || !self.rules.is_empty()) && !self.rules.iter().any(|r| r.matches(t)) {
            return false;
        }
        if self.excluded.iter().any(|r| r.matches(t)) {
            return false;
        }
        if let Some(sel) = &self.object_selector {
            let old = t.old_labels.as_ref().is_some_and(|l| sel.matches(l));
            if !sel.matches(&t.labels) && !old {
                return false;
            }
        }
        if let Some(sel) = &self.namespace_selector {
            let (name, labels) = if t.is_namespace {
                (t.name, Some(&t.labels))
            } else {
                (t.namespace, t.namespace_labels)
            };
            if t.is_namespace || !name.is_empty() {
                // The API server labels every Namespace with its name, whatever its manifest
                // says, so a selector on that label works even when the Namespace is not known.
                let mut labels = labels.cloned().unwrap_or_default();
                labels.insert(NAME_LABEL.to_owned(), name.to_owned());
                return sel.matches(&labels);
            }
        }
        true
    }
}

/// The label the API server gives every Namespace: its name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

pub(crate) struct VapTarget<'a> {
    group: &'a str,
    version: &'a str,
    resource: String,
    operation: &'a str,
    name: &'a str,
    namespace: &'a str,
    is_namespace: bool,
    labels: BTreeMap<String, String>,
    old_labels: Option<BTreeMap<String, String>>,
    namespace_labels: Option<&'a BTreeMap<String, String>>,
}

impl<'a> VapTarget<'a> {
    pub fn new(
        review: &'a Review,
        namespace_labels: Option<&'a BTreeMap<String, String>>,
    ) -> VapTarget<'a> {
        let operation = match review.operation() {
            // A manifest that is not an admission request is judged as its creation.
            Operation::None | Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        };
        let kind = review.kind_field("kind");
        let resource = review
            .request()
            .get("resource")
            .and_then(|r| r.get("resource"))
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
            .map_or_else(|| resource_of(kind), str::to_owned);
        VapTarget {
            group: review.kind_field("group"),
            version: review.kind_field("version"),
            resource,
            operation,
            name: review.name(),
            namespace: review.namespace(),
            is_namespace: kind == "Namespace" && review.kind_field("group").is_empty(),
            labels: labels_of(review.object()),
            old_labels: review.old_object().map(labels_of),
            namespace_labels,
        }
    }
}

/// What a binding does with a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePolicy {
    Fail,
    Ignore,
}

/// A loaded ValidatingAdmissionPolicy.
#[derive(Debug, Clone)]
pub struct Vap {
    pub name: String,
    pub failure_policy: FailurePolicy,
    /// `apiVersion` and `kind` of the parameter objects.
    pub param_kind: Option<(String, String)>,
    match_constraints: MatchResources,
    pub(crate) program: Arc<CelProgram>,
}

/// A loaded ValidatingAdmissionPolicyBinding.
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub policy: String,
    /// `Deny`, `Warn`, `Audit`.
    pub actions: Vec<String>,
    match_resources: MatchResources,
    param_ref: Option<Value>,
}

impl Vap {
    pub(crate) fn parse(object: &Value) -> Result<Vap, (String, String)> {
        let spec = object.get("spec").cloned().unwrap_or(Value::Null);
        let name = crate::error::str_at(object, &["metadata", "name"])
            .unwrap_or("")
            .to_owned();
        let program = CelProgram::compile(&spec).map_err(|(at, m)| (format!("/spec{at}"), m))?;
        let param_kind = spec.get("paramKind").filter(|p| p.is_object()).map(|p| {
            (
                p.get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                p.get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            )
        });
        Ok(Vap {
            name,
            failure_policy: match spec.get("failurePolicy").and_then(Value::as_str) {
                Some("Ignore") => FailurePolicy::Ignore,
                _ => FailurePolicy::Fail,
            },
            param_kind,
            match_constraints: MatchResources::parse(spec.get("matchConstraints"))
                .map_err(|m| ("/spec/matchConstraints".to_owned(), m))?,
            program: Arc::new(program),
        })
    }

    pub(crate) fn matches(&self, t: &VapTarget<'_>) -> bool {
        self.match_constraints.matches(t, true)
    }

    /// [`Vap::may_match`] for the object of `t`.
    pub(crate) fn may_select(&self, t: &VapTarget<'_>) -> bool {
        self.may_match(t.group, &t.resource)
    }

    /// Whether `matchConstraints.resourceRules` may match an object of this group and resource
    /// (whatever its version, scope, operation and name): `false` only when
    /// [`Vap::matches`] is `false` for every such object.
    pub(crate) fn may_match(&self, group: &str, resource: &str) -> bool {
        self.match_constraints.rules.iter().any(|r| {
            any(&r.groups, group)
                && (any(&r.resources, resource) || r.resources.iter().any(|x| x == "*/*"))
        })
    }
}

impl Binding {
    pub(crate) fn parse(object: &Value) -> Result<Binding, (String, String)> {
        let spec = object.get("spec").cloned().unwrap_or(Value::Null);
        let name = crate::error::str_at(object, &["metadata", "name"])
            .unwrap_or("")
            .to_owned();
        let policy = spec
            .get("policyName")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
            .ok_or_else(|| ("/spec".to_owned(), "spec.policyName is missing".to_owned()))?
            .to_owned();
        let mut actions = strings(spec.get("validationActions"));
        if actions.is_empty() {
            actions.push("Deny".into());
        }
        Ok(Binding {
            name,
            policy,
            actions,
            match_resources: MatchResources::parse(spec.get("matchResources"))
                .map_err(|m| ("/spec/matchResources".to_owned(), m))?,
            param_ref: spec.get("paramRef").filter(|p| p.is_object()).cloned(),
        })
    }

    pub(crate) fn matches(&self, t: &VapTarget<'_>) -> bool {
        self.match_resources.matches(t, false)
    }

    /// The parameter objects the binding selects among `candidates` (of the policy's
    /// `paramKind`), or `Err` with the message of a missing parameter that denies.
    pub(crate) fn params<'a>(
        &self,
        candidates: &'a [Value],
        review_namespace: &str,
    ) -> Result<Vec<&'a Value>, Option<String>> {
        let Some(r) = &self.param_ref else {
            return Err(Some(format!(
                "binding {} has no paramRef for a policy with paramKind",
                self.name
            )));
        };
        let ns_of = |o: &Value| {
            crate::error::str_at(o, &["metadata", "namespace"])
                .unwrap_or("")
                .to_owned()
        };
        let namespace = r
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| review_namespace.to_owned());
        let found: Vec<&Value> = if let Some(name) = r.get("name").and_then(Value::as_str) {
            candidates
                .iter()
                .filter(|o| {
                    crate::error::str_at(o, &["metadata", "name"]) == Some(name)
                        && (ns_of(o).is_empty() || ns_of(o) == namespace)
                })
                .collect()
        } else if let Some(sel) = r.get("selector") {
            let sel =
                LabelSelector::parse(sel, Scalars::Strict).map_err(|e| Some(e.to_string()))?;
            candidates
                .iter()
                .filter(|o| {
                    sel.matches(&labels_of(o)) && (ns_of(o).is_empty() || ns_of(o) == namespace)
                })
                .collect()
        } else {
            Vec::new()
        };
        if found.is_empty() {
            let deny = r.get("parameterNotFoundAction").and_then(Value::as_str) != Some("Allow");
            return Err(deny.then(|| {
                "no params found for policy binding with `Deny` parameterNotFoundAction".to_owned()
            }));
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_become_resources() {
        assert_eq!(resource_of("Deployment"), "deployments");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("Endpoints"), "endpoints");
        assert_eq!(resource_of("Gateway"), "gateways");
    }
}
