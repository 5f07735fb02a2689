//! Objects that a controller owns are reported once, at their owner: a finding on a Pod (or a
//! ReplicaSet) that its owner's template also has is left out. A finding the owner does not
//! have (the Pod differs from its template) stays on the Pod.

use std::collections::{HashMap, HashSet};

use palisade_core::rule::Finding;
use palisade_core::views::pod_spec_location;
use serde_json::Value;

struct Node {
    kind: String,
    /// The uid of the controller that owns the object.
    owner: Option<String>,
}

/// The objects of a run by uid, with their controlling owner.
#[derive(Default)]
pub struct Owners {
    nodes: HashMap<String, Node>,
}

impl Owners {
    /// Records an object (those without a uid are never folded).
    pub fn add(&mut self, object: &Value) {
        let Some(metadata) = object.get("metadata") else {
            return;
        };
        let Some(uid) = metadata.get("uid").and_then(Value::as_str) else {
            return;
        };
        let owner = metadata
            .get("ownerReferences")
            .and_then(Value::as_array)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            })
            .and_then(|r| r.get("uid"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        self.nodes.insert(
            uid.to_owned(),
            Node {
                kind: kind.to_owned(),
                owner,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// `pointer` in a `child` object, as a pointer into its `parent`'s pod template.
fn translate(pointer: &str, child: &str, parent: &str) -> Option<String> {
    let (child_spec, child_meta) = pod_spec_location(child)?;
    let (parent_spec, parent_meta) = pod_spec_location(parent)?;
    for (from, to) in [(child_spec, parent_spec), (child_meta, parent_meta)] {
        if let Some(rest) = pointer.strip_prefix(from) {
            if rest.is_empty() || rest.starts_with('/') {
                return Some(format!("{to}{rest}"));
            }
        }
    }
    None
}

/// Leaves out each finding whose object's controlling owner was read and has the same rule's
/// finding at the same field of its template (or at the same pointer, for findings about the
/// object itself, such as its namespace).
pub fn fold(findings: Vec<Finding>, owners: &Owners) -> Vec<Finding> {
    let present: HashSet<(String, &'static str, String)> = findings
        .iter()
        .filter_map(|f| Some((f.object.uid.clone()?, f.rule.id, f.pointer.clone())))
        .collect();
    let folded = |f: &Finding| -> bool {
        let Some(uid) = f.object.uid.as_deref() else {
            return false;
        };
        let Some(node) = owners.nodes.get(uid) else {
            return false;
        };
        let Some(owner_uid) = node.owner.as_deref() else {
            return false;
        };
        let Some(owner) = owners.nodes.get(owner_uid) else {
            return false;
        };
        let at = |pointer: String| present.contains(&(owner_uid.to_owned(), f.rule.id, pointer));
        translate(&f.pointer, &node.kind, &owner.kind).is_some_and(at) || at(f.pointer.clone())
    };
    let keep: Vec<bool> = findings.iter().map(|f| !folded(f)).collect();
    findings
        .into_iter()
        .zip(keep)
        .filter_map(|(f, keep)| keep.then_some(f))
        .collect()
}

/// The order in which the inventory rules see a cluster's objects: owners before what they own,
/// then by apiVersion, kind, namespace and name. Inventory findings about a group of objects (a
/// namespace without a default-deny policy) are placed at its first object: a fixed order makes
/// that the same on every run and an owner when possible.
pub fn inventory_order(objects: &mut [palisade_core::Object]) {
    objects.sort_by_cached_key(|o| {
        (
            o.value.pointer("/metadata/ownerReferences").is_some(),
            o.api_version().to_owned(),
            o.kind().to_owned(),
            o.namespace().map(str::to_owned),
            o.name().to_owned(),
        )
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_pointers_map_into_templates() {
        assert_eq!(
            translate("/spec/containers/0/image", "Pod", "ReplicaSet").as_deref(),
            Some("/spec/template/spec/containers/0/image")
        );
        assert_eq!(
            translate("/metadata/annotations/x", "Pod", "Job").as_deref(),
            Some("/spec/template/metadata/annotations/x")
        );
        assert_eq!(
            translate("/spec/template/spec/hostPID", "Job", "CronJob").as_deref(),
            Some("/spec/jobTemplate/spec/template/spec/hostPID")
        );
        assert_eq!(translate("/specs", "Pod", "ReplicaSet"), None);
        assert_eq!(translate("/spec", "Pod", "ConfigMap"), None);
    }
}
