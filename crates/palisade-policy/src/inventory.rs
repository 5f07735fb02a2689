//! `data.inventory`: the objects Gatekeeper's sync replicates, keyed as Gatekeeper keys them.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::matching::labels_of;

/// Cluster state for referential policies:
/// `cluster[<groupversion>][<kind>][<name>]` and
/// `namespace[<ns>][<groupversion>][<kind>][<name>]`.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    cluster: Map<String, Value>,
    namespace: Map<String, Value>,
    /// Each Namespace with its labels.
    namespaces: BTreeMap<String, (Value, BTreeMap<String, String>)>,
    len: usize,
}

fn entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(m) => m,
        _ => unreachable!("just made an object"),
    }
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

impl Inventory {
    pub fn new() -> Inventory {
        Inventory::default()
    }

    /// Adds one object; objects without an apiVersion, kind or name are not synced.
    pub fn add(&mut self, object: &Value) {
        if Self::key(object).is_some() {
            self.insert(object.clone());
        }
    }

    /// [`Inventory::add`], taking the object.
    pub fn insert(&mut self, object: Value) {
        let Some((gv, kind, name, ns)) = Self::key(&object) else {
            return;
        };
        let (gv, kind, name, ns) = (
            gv.to_owned(),
            kind.to_owned(),
            name.to_owned(),
            ns.to_owned(),
        );
        if ns.is_empty() && kind == "Namespace" && !gv.contains('/') {
            let labels = labels_of(&object);
            self.namespaces
                .insert(name.clone(), (object.clone(), labels));
        }
        let root = if ns.is_empty() {
            &mut self.cluster
        } else {
            entry(&mut self.namespace, &ns)
        };
        entry(entry(root, &gv), &kind).insert(name, object);
        self.len += 1;
    }

    /// apiVersion, kind, name and namespace of a synced object.
    fn key(object: &Value) -> Option<(&str, &str, &str, &str)> {
        let gv = str_of(object.get("apiVersion"));
        let kind = str_of(object.get("kind"));
        let meta = object.get("metadata");
        let name = str_of(meta.and_then(|m| m.get("name")));
        let ns = str_of(meta.and_then(|m| m.get("namespace")));
        (!gv.is_empty() && !kind.is_empty() && !name.is_empty()).then_some((gv, kind, name, ns))
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Drops the objects, keeping the Namespaces with their labels.
    pub(crate) fn keep_namespaces_only(&mut self) {
        self.cluster = Map::new();
        self.namespace = Map::new();
    }

    /// The labels of a synced Namespace.
    pub fn namespace_labels(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.namespaces.get(name).map(|(_, labels)| labels)
    }

    /// A synced Namespace.
    pub fn namespace_object(&self, name: &str) -> Option<&Value> {
        self.namespaces.get(name).map(|(object, _)| object)
    }

    /// The whole data document as Rego reads it, converted without copying the JSON first.
    pub(crate) fn to_rego(&self) -> regorus::Value {
        use serde::Deserialize;
        let convert = |map: &Map<String, Value>| {
            let mut object = regorus::Value::new_object();
            if let Ok(fields) = object.as_object_mut() {
                for (key, value) in map {
                    let value =
                        regorus::Value::deserialize(value).unwrap_or(regorus::Value::Undefined);
                    fields.insert(regorus::Value::from(key.as_str()), value);
                }
            }
            object
        };
        let mut inventory = regorus::Value::new_object();
        let mut data = regorus::Value::new_object();
        if let (Ok(fields), Ok(root)) = (inventory.as_object_mut(), data.as_object_mut()) {
            fields.insert(regorus::Value::from("cluster"), convert(&self.cluster));
            fields.insert(regorus::Value::from("namespace"), convert(&self.namespace));
            root.insert(regorus::Value::from("inventory"), inventory);
        }
        data
    }

    /// The whole data document: `{"inventory": {"cluster": …, "namespace": …}}`.
    pub fn to_data(&self) -> Value {
        let mut inventory = Map::new();
        inventory.insert("cluster".into(), Value::Object(self.cluster.clone()));
        inventory.insert("namespace".into(), Value::Object(self.namespace.clone()));
        let mut data = Map::new();
        data.insert("inventory".into(), Value::Object(inventory));
        Value::Object(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_keyed_by_group_version_kind_and_name() {
        let mut inv = Inventory::new();
        inv.add(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "prod", "labels": {"env": "prod"}}}));
        inv.add(
            &json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "prod"}}),
        );
        inv.add(&json!({"kind": "Broken"}));
        assert_eq!(inv.len(), 2);
        let data = inv.to_data();
        assert_eq!(
            data["inventory"]["cluster"]["v1"]["Namespace"]["prod"]["metadata"]["name"],
            "prod"
        );
        assert_eq!(
            data["inventory"]["namespace"]["prod"]["networking.k8s.io/v1"]["Ingress"]["web"]
                ["kind"],
            "Ingress"
        );
        assert_eq!(inv.namespace_labels("prod").unwrap()["env"], "prod");
    }
}
