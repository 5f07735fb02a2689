//! A constraint's `spec.match`, with Gatekeeper's semantics: every part that is set must match.

use std::collections::BTreeMap;

use palisade_core::selector::{LabelSelector, Scalars};
use serde_json::Value;

/// One `spec.match.kinds` entry: empty lists and `*` match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindSet {
    pub api_groups: Vec<String>,
    pub kinds: Vec<String>,
}

/// Which objects are cluster-scoped or namespaced for `spec.match.scope`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    All,
    Cluster,
    Namespaced,
}

/// A constraint's `spec.match`.
#[derive(Debug, Clone, Default)]
pub struct Match {
    pub kinds: Vec<KindSet>,
    pub scope: Scope,
    pub namespaces: Vec<String>,
    pub excluded_namespaces: Vec<String>,
    pub label_selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub name: Option<String>,
}

/// Gatekeeper's wildcard: `prefix*`, `*suffix`, `*infix*` or an exact name.
pub fn wildcard_matches(pattern: &str, name: &str) -> bool {
    let starts = pattern.starts_with('*');
    let ends = pattern.ends_with('*') && pattern.len() > 1;
    match (starts, ends) {
        (true, true) => name.contains(&pattern[1..pattern.len() - 1]),
        (false, true) => name.starts_with(&pattern[..pattern.len() - 1]),
        (true, false) => name.ends_with(&pattern[1..]),
        (false, false) => pattern == name,
    }
}

fn strings(value: Option<&Value>) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{v} is not a string"))
            })
            .collect(),
        Some(other) => Err(format!("{other} is not a list of strings")),
    }
}

fn selector(value: Option<&Value>, field: &str) -> Result<Option<LabelSelector>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => LabelSelector::parse(v, Scalars::Strict)
            .map(Some)
            .map_err(|e| format!("{field}: {e}")),
    }
}

/// What the matcher needs to know about the reviewed object.
pub(crate) struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    pub labels: BTreeMap<String, String>,
    /// The labels of the object's Namespace, when it is known.
    pub namespace_labels: Option<BTreeMap<String, String>>,
}

impl Target<'_> {
    fn is_namespace(&self) -> bool {
        self.kind == "Namespace" && self.group.is_empty()
    }
}

pub(crate) fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object
        .get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

impl Match {
    /// Parses `spec.match` (absent: everything matches).
    pub fn parse(value: Option<&Value>) -> Result<Match, String> {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(Match::default());
        };
        let map = value.as_object().ok_or("spec.match is not a mapping")?;
        let mut kinds = Vec::new();
        match map.get("kinds") {
            None | Some(Value::Null) => {}
            Some(Value::Array(entries)) => {
                for entry in entries {
                    kinds.push(KindSet {
                        api_groups: strings(entry.get("apiGroups"))
                            .map_err(|e| format!("spec.match.kinds apiGroups: {e}"))?,
                        kinds: strings(entry.get("kinds"))
                            .map_err(|e| format!("spec.match.kinds kinds: {e}"))?,
                    });
                }
            }
            Some(_) => return Err("spec.match.kinds is not a list".into()),
        }
        let scope = match map.get("scope").and_then(Value::as_str) {
            Some("Cluster") => Scope::Cluster,
            Some("Namespaced") => Scope::Namespaced,
            _ => Scope::All,
        };
        Ok(Match {
            kinds,
            scope,
            namespaces: strings(map.get("namespaces"))
                .map_err(|e| format!("spec.match.namespaces: {e}"))?,
            excluded_namespaces: strings(map.get("excludedNamespaces"))
                .map_err(|e| format!("spec.match.excludedNamespaces: {e}"))?,
            label_selector: selector(map.get("labelSelector"), "spec.match.labelSelector")?,
            namespace_selector: selector(
                map.get("namespaceSelector"),
                "spec.match.namespaceSelector",
            )?,
            name: map
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
        })
    }

    /// Whether the object is in scope, or why that cannot be decided (a namespace selector on
    /// a namespaced object whose Namespace is unknown).
    pub(crate) fn matches(&self, t: &Target<'_>) -> Result<bool, String> {
        let kinds = self.kinds.is_empty()
            || self.kinds.iter().any(|k| {
                let kind = k.kinds.is_empty() || k.kinds.iter().any(|x| x == "*" || x == t.kind);
                let group = k.api_groups.is_empty()
                    || k.api_groups.iter().any(|g| g == "*" || g == t.group);
                kind && group
            });
        if !kinds {
            return Ok(false);
        }
        let has_namespace = !t.namespace.is_empty();
        let scope = match self.scope {
            Scope::All => true,
            Scope::Cluster => t.is_namespace() || !has_namespace,
            Scope::Namespaced => !t.is_namespace() && has_namespace,
        };
        if !scope {
            return Ok(false);
        }
        let namespace = if t.is_namespace() {
            Some(t.name)
        } else if has_namespace {
            Some(t.namespace)
        } else {
            None
        };
        if let Some(ns) = namespace {
            if !self.namespaces.is_empty()
                && !self.namespaces.iter().any(|p| wildcard_matches(p, ns))
            {
                return Ok(false);
            }
            if self
                .excluded_namespaces
                .iter()
                .any(|p| wildcard_matches(p, ns))
            {
                return Ok(false);
            }
        }
        if let Some(sel) = &self.label_selector {
            if !sel.matches(&t.labels) {
                return Ok(false);
            }
        }
        if let Some(sel) = &self.namespace_selector {
            if t.is_namespace() {
                if !sel.matches(&t.labels) {
                    return Ok(false);
                }
            } else if has_namespace {
                match &t.namespace_labels {
                    Some(labels) => {
                        if !sel.matches(labels) {
                            return Ok(false);
                        }
                    }
                    None => {
                        return Err(format!(
                            "namespaceSelector needs Namespace {:?}, which is not known",
                            t.namespace
                        ))
                    }
                }
            }
        }
        if let Some(name) = &self.name {
            if !wildcard_matches(name, t.name) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target<'a>(kind: &'a str, name: &'a str, ns: &'a str) -> Target<'a> {
        Target {
            group: "",
            kind,
            name,
            namespace: ns,
            labels: BTreeMap::from([("app".to_owned(), "web".to_owned())]),
            namespace_labels: None,
        }
    }

    #[test]
    fn wildcards_are_prefix_suffix_or_infix() {
        assert!(wildcard_matches("kube-*", "kube-system"));
        assert!(wildcard_matches("*-system", "kube-system"));
        assert!(wildcard_matches("*be-sy*", "kube-system"));
        assert!(!wildcard_matches("kube-*", "default"));
        assert!(wildcard_matches("default", "default"));
        assert!(!wildcard_matches("default", "default2"));
    }

    #[test]
    fn every_set_part_must_match() {
        let m = Match::parse(Some(&json!({
            "kinds": [{"apiGroups": [""], "kinds": ["Pod"]}],
            "excludedNamespaces": ["kube-*"],
            "labelSelector": {"matchLabels": {"app": "web"}},
            "name": "web-*"
        })))
        .unwrap();
        assert_eq!(m.matches(&target("Pod", "web-1", "default")), Ok(true));
        assert_eq!(m.matches(&target("Pod", "web-1", "kube-system")), Ok(false));
        assert_eq!(m.matches(&target("Pod", "db-1", "default")), Ok(false));
        assert_eq!(m.matches(&target("Service", "web-1", "default")), Ok(false));
    }

    #[test]
    fn scope_and_namespace_selector() {
        let m = Match::parse(Some(&json!({"scope": "Cluster"}))).unwrap();
        assert_eq!(m.matches(&target("Namespace", "a", "")), Ok(true));
        assert_eq!(m.matches(&target("Pod", "a", "default")), Ok(false));
        let m = Match::parse(Some(
            &json!({"namespaceSelector": {"matchLabels": {"t": "x"}}}),
        ))
        .unwrap();
        assert!(m.matches(&target("Pod", "a", "default")).is_err());
        let mut t = target("Pod", "a", "default");
        t.namespace_labels = Some(BTreeMap::from([("t".to_owned(), "x".to_owned())]));
        assert_eq!(m.matches(&t), Ok(true));
        assert_eq!(m.matches(&target("ClusterRole", "a", "")), Ok(true));
    }
}
