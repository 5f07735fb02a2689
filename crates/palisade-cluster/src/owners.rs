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

    /// Adds the objects of `other`.
    pub fn extend(&mut self, other: &Owners) {
        for (uid, node) in &other.nodes {
            self.nodes.insert(
                uid.clone(),
                Node {
                    kind: node.kind.clone(),
                    owner: node.owner.clone(),
                },
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The uid of the controller that owns the object `uid`, if the object was recorded.
    pub fn owner_of(&self, uid: &str) -> Option<&str> {
        self.nodes.get(uid)?.owner.as_deref()
    }

    /// Whether `finding` is left out by folding when `present` holds the findings of its
    /// object's owner: its object's controlling owner was recorded and has the same rule's
    /// finding at the same field of its template (or at the same pointer).
    pub fn folds(&self, f: &Finding, present: &Present) -> bool {
        let Some(uid) = f.object.uid.as_deref() else {
            return false;
        };
        let Some(node) = self.nodes.get(uid) else {
            return false;
        };
        let Some(owner_uid) = node.owner.as_deref() else {
            return false;
        };
        let Some(owner) = self.nodes.get(owner_uid) else {
            return false;
        };
        let at = |pointer: String| {
            present
                .0
                .contains(&(owner_uid.to_owned(), f.rule.id, pointer))
        };
        translate(&f.pointer, &node.kind, &owner.kind).is_some_and(at) || at(f.pointer.clone())
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

/// Where findings are, for folding: the uid of each finding's object, its rule and its pointer.
#[derive(Debug, Default, Clone)]
pub struct Present(HashSet<(String, &'static str, String)>);

impl Present {
    pub fn of(findings: &[Finding]) -> Present {
        Present(
            findings
                .iter()
                .filter_map(|f| Some((f.object.uid.clone()?, f.rule.id, f.pointer.clone())))
                .collect(),
        )
    }

    pub fn extend(&mut self, other: &Present) {
        self.0.extend(other.0.iter().cloned());
    }

    /// Adds where `finding` is.
    pub fn insert(&mut self, finding: &Finding) {
        if let Some(uid) = &finding.object.uid {
            self.0
                .insert((uid.clone(), finding.rule.id, finding.pointer.clone()));
        }
    }
}

/// Leaves out each finding whose object's controlling owner was read and has the same rule's
/// finding at the same field of its template (or at the same pointer, for findings about the
/// object itself, such as its namespace).
pub fn fold(findings: Vec<Finding>, owners: &Owners) -> Vec<Finding> {
    let present = Present::of(&findings);
    fold_with(findings, &present, owners)
}

/// [`fold`], with the findings of the owners in `present` (for folding part of a run's
/// findings: those of one namespace, whose owners are in it or cluster-scoped).
pub fn fold_with(findings: Vec<Finding>, present: &Present, owners: &Owners) -> Vec<Finding> {
    let keep: Vec<bool> = findings.iter().map(|f| !owners.folds(f, present)).collect();
    findings
        .into_iter()
        .zip(keep)
        .filter_map(|(f, keep)| keep.then_some(f))
        .collect()
}

/// Where an object goes in the inventory order: built by [`OrderKeys::key`], compared through
/// [`OrderKeys::sort`] (type and namespace are numbers given in order of first sight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderKey {
    owned: bool,
    kind: u32,
    namespace: Option<u32>,
    name: Box<str>,
}

/// The types (apiVersion and kind) and namespaces seen, each stored once.
#[derive(Debug, Default)]
pub struct OrderKeys {
    kinds: HashMap<(String, String), u32>,
    namespaces: HashMap<String, u32>,
}

fn intern<K: std::hash::Hash + Eq>(table: &mut HashMap<K, u32>, key: K) -> u32 {
    let next = u32::try_from(table.len()).unwrap_or(u32::MAX);
    *table.entry(key).or_insert(next)
}

/// Each number's rank when the values of `table` are sorted.
fn ranks<K: Ord>(table: &HashMap<K, u32>) -> Vec<u32> {
    let mut sorted: Vec<(&K, u32)> = table.iter().map(|(k, id)| (k, *id)).collect();
    sorted.sort();
    let mut rank = vec![0; sorted.len()];
    for (position, (_, id)) in sorted.into_iter().enumerate() {
        if let Some(slot) = rank.get_mut(id as usize) {
            *slot = u32::try_from(position).unwrap_or(u32::MAX);
        }
    }
    rank
}

impl OrderKeys {
    /// The key of `object`.
    pub fn key(&mut self, object: &Value) -> OrderKey {
        let field = |pointer: &str| object.pointer(pointer).and_then(Value::as_str);
        let kind = intern(
            &mut self.kinds,
            (
                field("/apiVersion").unwrap_or("").to_owned(),
                field("/kind").unwrap_or("").to_owned(),
            ),
        );
        let namespace = field("/metadata/namespace").map(|ns| match self.namespaces.get(ns) {
            Some(id) => *id,
            None => intern(&mut self.namespaces, ns.to_owned()),
        });
        OrderKey {
            owned: object.pointer("/metadata/ownerReferences").is_some(),
            kind,
            namespace,
            name: field("/metadata/name").unwrap_or("").into(),
        }
    }

    /// Sorts `items` by their keys, in the inventory order (stable: equal keys keep their
    /// order).
    pub fn sort<T>(&self, items: &mut [(OrderKey, T)]) {
        let kinds = ranks(&self.kinds);
        let namespaces = ranks(&self.namespaces);
        let rank = |table: &[u32], id: u32| table.get(id as usize).copied().unwrap_or(u32::MAX);
        items.sort_by(|(a, _), (b, _)| {
            let order = |k: &OrderKey| {
                (
                    k.owned,
                    rank(&kinds, k.kind),
                    k.namespace.map(|ns| rank(&namespaces, ns)),
                )
            };
            order(a).cmp(&order(b)).then_with(|| a.name.cmp(&b.name))
        });
    }
}

/// The order in which the inventory rules see a cluster's objects: owners before what they own,
/// then by apiVersion, kind, namespace and name. Inventory findings about a group of objects (a
/// namespace without a default-deny policy) are placed at its first object: a fixed order makes
/// that the same on every run and an owner when possible. [`OrderKeys`] gives the same order
/// through compact keys.
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
    use serde_json::json;

    #[test]
    fn compact_keys_give_the_inventory_order() {
        let mut values = Vec::new();
        for (i, (api, kind)) in [
            ("v1", "Pod"),
            ("apps/v1", "Deployment"),
            ("v1", "Namespace"),
            ("apps/v1", "ReplicaSet"),
            ("v1", "Service"),
        ]
        .iter()
        .enumerate()
        {
            for n in 0..7 {
                let mut metadata = json!({"name": format!("o{}", (n * 5 + i) % 4)});
                if *kind != "Namespace" && n % 3 != 0 {
                    metadata["namespace"] = json!(format!("ns-{}", (n + i) % 3));
                }
                if n % 2 == 0 && *kind != "Namespace" {
                    metadata["ownerReferences"] = json!([{"uid": "u"}]);
                }
                values.push(json!({"apiVersion": api, "kind": kind, "metadata": metadata}));
            }
        }
        let mut objects: Vec<palisade_core::Object> = values
            .iter()
            .enumerate()
            .map(|(i, v)| palisade_core::Object::from_value(v.clone(), &i.to_string()))
            .collect();
        let mut keys = OrderKeys::default();
        let mut keyed: Vec<(OrderKey, String)> = objects
            .iter()
            .map(|o| (keys.key(&o.value), o.source.path.clone()))
            .collect();
        keys.sort(&mut keyed);
        inventory_order(&mut objects);
        let expected: Vec<&str> = objects.iter().map(|o| o.source.path.as_str()).collect();
        let found: Vec<&str> = keyed.iter().map(|(_, path)| path.as_str()).collect();
        assert_eq!(found, expected);
        let unsorted: Vec<String> = (0..values.len()).map(|i| i.to_string()).collect();
        assert_ne!(
            found,
            unsorted.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }

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
