//! What the workload controllers create: ReplicaSets for Deployments, and Pods from templates.

use serde_json::{json, Value};

use crate::store::Store;

/// A short name suffix derived from a name, as controllers add a hash.
fn suffix(name: &str, len: usize) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len)
        .map(|i| ALPHABET[((hash >> (i * 5)) % ALPHABET.len() as u64) as usize] as char)
        .collect()
}

fn owner_reference(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// An object of `kind` made from `owner`'s pod template (`template` pointer).
fn from_template(owner: &Value, name: String, template: &Value) -> Value {
    let mut metadata = template
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({}));
    metadata["name"] = json!(name);
    if let Some(ns) = owner.pointer("/metadata/namespace") {
        metadata["namespace"] = ns.clone();
    }
    metadata["ownerReferences"] = json!([owner_reference(owner)]);
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    if spec.get("nodeName").is_none() {
        spec["nodeName"] = json!("node-1");
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {"phase": "Running"},
    })
}

fn stored(store: &Store, kind: &str) -> Vec<Value> {
    store
        .resources
        .iter()
        .zip(&store.objects)
        .filter(|(r, _)| r.kind == kind)
        .flat_map(|(_, objects)| objects.values().map(|o| Value::clone(o)))
        .collect()
}

pub fn run(store: &mut Store, replicas: usize) {
    for deployment in stored(store, "Deployment") {
        let name = deployment["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let mut rs = json!({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": format!("{name}-{}", suffix(&name, 10)),
                "namespace": deployment["metadata"]["namespace"],
                "labels": deployment.pointer("/spec/template/metadata/labels").cloned().unwrap_or(json!({})),
                "ownerReferences": [owner_reference(&deployment)],
            },
            "spec": {
                "replicas": replicas,
                "selector": deployment["spec"]["selector"],
                "template": deployment["spec"]["template"],
            },
        });
        if rs["metadata"]["namespace"].is_null() {
            if let Some(map) = rs["metadata"].as_object_mut() {
                map.remove("namespace");
            }
        }
        store.put(rs);
    }
    for (kind, count) in [
        ("ReplicaSet", replicas),
        ("StatefulSet", replicas),
        ("Job", replicas),
        ("DaemonSet", 1),
    ] {
        for owner in stored(store, kind) {
            let Some(template) = owner.pointer("/spec/template") else {
                continue;
            };
            let name = owner["metadata"]["name"].as_str().unwrap_or("").to_owned();
            for i in 0..count {
                let pod_name = match kind {
                    "StatefulSet" => format!("{name}-{i}"),
                    _ => format!("{name}-{}", suffix(&format!("{name}/{i}"), 5)),
                };
                store.put(from_template(&owner, pod_name, template));
            }
        }
    }
}
