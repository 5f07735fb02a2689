//! Admission with the cluster's state: a cache of the objects the inventory rules read (RBAC,
//! NetworkPolicies, namespaces and their Pod Security labels, workloads, service accounts),
//! fed by list and watch (with bookmarks, a new list after `410 Gone`) as Gatekeeper's sync
//! does, so that a review gives the findings `palisade scan` would give on the cluster's
//! objects plus the admitted one, for that object.
//!
//! A review reads the cache as it is and never waits on the cluster. Until the first list of
//! every resource type is complete the server is not ready and the inventory rules do not run.
//! Errors of the cluster (a type that cannot be listed, a watch that fails) are logged and
//! retried; they never stop the server.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use palisade_cluster::{
    connect, discover, inventory_order, object_url, watch, Change, ConnectOptions, ListOptions,
    ResourceType, WatchOptions,
};
use palisade_core::rule::Finding;
use palisade_core::Object;
use palisade_rules::{Checker, Engine, Rule};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::log::LogSink;

/// The inventory rules among the engine's rules: what needs the cluster's state.
pub fn inventory_rules(engine: &Engine) -> Vec<&'static str> {
    engine
        .rules()
        .iter()
        .filter(|r| matches!(r.checker(), Checker::Inventory(_)))
        .map(|r| r.meta().id)
        .collect()
}

/// The kinds the inventory rules read. A rule that reads every kind reads, in a cluster, the
/// kinds any rule of palisade names.
pub fn inventory_kinds(engine: &Engine) -> BTreeSet<String> {
    let inventory = |rules: &[&'static dyn Rule]| -> Vec<&'static str> {
        rules
            .iter()
            .filter(|r| matches!(r.checker(), Checker::Inventory(_)))
            .flat_map(|r| r.meta().kinds.iter().copied())
            .collect()
    };
    let read = inventory(engine.rules());
    let mut kinds: BTreeSet<String> = read
        .iter()
        .filter(|k| **k != "*")
        .map(|k| (*k).to_owned())
        .collect();
    if read.contains(&"*") {
        kinds.extend(
            palisade_rules::registry()
                .iter()
                .flat_map(|r| r.meta().kinds.iter())
                .filter(|k| **k != "*")
                .map(|k| (*k).to_owned()),
        );
    }
    kinds
}

/// An object's identity: apiVersion, kind, namespace, name.
type Key = (String, String, Option<String>, String);

fn key(object: &Object) -> Key {
    (
        object.api_version().to_owned(),
        object.kind().to_owned(),
        object.namespace().map(str::to_owned),
        object.name().to_owned(),
    )
}

/// The same object for admission: kind, namespace and name (an update may come at another
/// version of the API than the cache's).
fn same_object(a: &Object, b: &Object) -> bool {
    a.kind() == b.kind() && a.namespace() == b.namespace() && a.name() == b.name()
}

/// Where the sync stands.
#[derive(Debug, Default, Clone)]
struct Status {
    /// Resource types to list (known after discovery).
    types: Option<usize>,
    /// Resource types listed at least once.
    listed: BTreeSet<String>,
    synced: bool,
    last_error: Option<String>,
}

/// The cluster's objects that the inventory rules read, kept up to date by [`sync`].
pub struct ClusterCache {
    kinds: BTreeSet<String>,
    rules: Vec<&'static str>,
    objects: RwLock<Objects>,
    status: Mutex<Status>,
}

#[derive(Default)]
struct Objects {
    by_key: HashMap<Key, Object>,
    /// Every object in the order of `palisade cluster scan`'s inventory, built again after a
    /// change when a review asks for it.
    ordered: Option<Arc<Vec<Object>>>,
}

impl ClusterCache {
    /// An empty cache for the inventory rules of `engine`.
    pub fn new(engine: &Engine) -> ClusterCache {
        ClusterCache {
            kinds: inventory_kinds(engine),
            rules: inventory_rules(engine),
            objects: RwLock::default(),
            status: Mutex::default(),
        }
    }

    /// The kinds kept.
    pub fn kinds(&self) -> &BTreeSet<String> {
        &self.kinds
    }

    /// Whether every resource type was listed once.
    pub fn synced(&self) -> bool {
        self.status().synced
    }

    /// How many objects the cache holds.
    pub fn len(&self) -> usize {
        self.read().by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Objects> {
        self.objects.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Objects> {
        self.objects.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The readiness line of `/readyz`.
    pub fn describe(&self) -> String {
        let status = self.status();
        let mut text = match (status.synced, status.types) {
            (true, _) => format!(
                "cluster state: synced, {} objects of {} resource types",
                self.len(),
                status.listed.len()
            ),
            (false, None) => "cluster state: connecting".to_owned(),
            (false, Some(types)) => format!(
                "cluster state: syncing, {} of {types} resource types listed",
                status.listed.len()
            ),
        };
        if !status.synced {
            text.push_str(&format!(
                "; until then these rules do not run: {}",
                self.rules.join(", ")
            ));
        }
        if let Some(error) = &status.last_error {
            text.push_str("; last error: ");
            text.push_str(error);
        }
        text
    }

    /// What the cache keeps of an object: none of a kind the inventory rules do not read,
    /// and no `managedFields`.
    fn keep(&self, mut value: Value) -> Option<Value> {
        let kind = value.get("kind").and_then(Value::as_str)?;
        if !self.kinds.contains(kind) {
            return None;
        }
        if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("managedFields");
        }
        Some(value)
    }

    /// Replaces every object of one resource type (after a list).
    pub fn replace(&self, api_version: &str, kind: &str, objects: Vec<(Value, String)>) {
        let mut cache = self.write();
        cache
            .by_key
            .retain(|k, _| k.0 != api_version || k.1 != kind);
        for (value, url) in objects {
            if let Some(value) = self.keep(value) {
                let object = Object::from_value(value, &url);
                cache.by_key.insert(key(&object), object);
            }
        }
        cache.ordered = None;
    }

    /// An object was created or changed.
    pub fn apply(&self, value: Value, url: &str) {
        let Some(value) = self.keep(value) else {
            return;
        };
        let object = Object::from_value(value, url);
        let mut cache = self.write();
        cache.by_key.insert(key(&object), object);
        cache.ordered = None;
    }

    /// An object was deleted.
    pub fn delete(&self, value: Value) {
        let object = Object::from_value(value, "");
        let mut cache = self.write();
        if cache.by_key.remove(&key(&object)).is_some() {
            cache.ordered = None;
        }
    }

    fn ordered(&self) -> Arc<Vec<Object>> {
        if let Some(ordered) = &self.read().ordered {
            return ordered.clone();
        }
        let mut cache = self.write();
        if let Some(ordered) = &cache.ordered {
            return ordered.clone();
        }
        let mut objects: Vec<Object> = cache.by_key.values().cloned().collect();
        inventory_order(&mut objects);
        let ordered = Arc::new(objects);
        cache.ordered = Some(ordered.clone());
        ordered
    }

    /// The inventory findings of `object` admitted into the cluster as the cache holds it: the
    /// inventory rules run over the cached objects (the object's earlier version left out) and
    /// the object last, and the findings placed at the object are kept.
    pub fn findings(&self, engine: &Engine, object: &Object) -> Vec<Finding> {
        if !engine.has_inventory_rules() || !engine.keep_for_inventory(object) {
            return Vec::new();
        }
        let cached = self.ordered();
        let mut objects: Vec<Object> = cached
            .iter()
            .filter(|o| !same_object(o, object))
            .cloned()
            .collect();
        drop(cached);
        objects.push(object.clone());
        let at = &object.source.path;
        engine
            .check_inventory(&objects)
            .into_iter()
            .filter(|f| &f.file == at && f.document == object.document)
            .collect()
    }
}

/// The findings of an admitted object: its per-object findings and, with a synced cache of
/// the cluster's state, its inventory findings, merged as `palisade scan` merges them. Without
/// a synced cache, a warning says which rules did not run.
pub(crate) fn findings(
    cache: Option<&ClusterCache>,
    engine: &Engine,
    object: &Object,
    warnings: &mut Vec<String>,
) -> Vec<Finding> {
    let Some(cache) = cache else {
        return engine.check_object(object);
    };
    let reads = engine.has_inventory_rules() && engine.keep_for_inventory(object);
    if !cache.synced() {
        if reads {
            warnings.push(format!(
                "palisade: the cluster's state is not synced yet; not run: {}",
                cache.rules.join(", ")
            ));
        }
        return engine.check_object(object);
    }
    if !reads {
        return engine.check_object(object);
    }
    // Findings of one field by a POD rule and a Pod Security rule are merged where they have
    // the same position: give the object the positions of a text, one value a line, as a
    // scanned file has.
    let spanned = spanned(object);
    let object = spanned.as_ref().unwrap_or(object);
    let mut findings = engine.check_object(object);
    findings.extend(cache.findings(engine, object));
    engine.merge_same_control(findings)
}

/// The object decoded from its pretty-printed text: the same value, with positions.
fn spanned(object: &Object) -> Option<Object> {
    let text = serde_json::to_string_pretty(&object.value).ok()?;
    let limits = palisade_core::Limits::default();
    let loaded = palisade_core::load_str(&text, &object.source.path, &limits);
    let mut objects = loaded.objects.into_iter();
    let spanned = objects.next()?;
    (objects.next().is_none() && spanned.value == object.value).then_some(spanned)
}

/// The start-up and `/readyz` line of a server without the cluster's state.
pub fn without_cluster(engine: &Engine) -> Option<String> {
    let rules = inventory_rules(engine);
    (!rules.is_empty()).then(|| {
        format!(
            "no cluster access (serve --cluster): these rules need the cluster's state and do not run: {}",
            rules.join(", ")
        )
    })
}

/// Keeps `cache` in step with the cluster: connects (retrying until it can), discovers the
/// resource types of the kinds kept, lists and watches each. Runs until the task is dropped.
pub async fn sync(cache: Arc<ClusterCache>, options: ConnectOptions, log: LogSink) {
    let retry = Duration::from_secs(2);
    let fail = |message: String| {
        log.emit(|| tracing::warn!(error = %message, "cluster state"));
        cache.status().last_error = Some(message);
    };
    let (connection, types) = loop {
        let connection = match connect(&options).await {
            Ok(connection) => connection,
            Err(err) => {
                fail(err.to_string());
                tokio::time::sleep(retry).await;
                continue;
            }
        };
        match discover(&connection.once, &cache.kinds).await {
            Ok(discovered) => {
                for group in &discovered.unavailable {
                    fail(format!(
                        "the API group {group} is unavailable: the kinds it serves are not cached"
                    ));
                }
                break (connection, discovered.types);
            }
            Err(err) => {
                fail(err.to_string());
                tokio::time::sleep(retry).await;
            }
        }
    };
    {
        let mut status = cache.status();
        status.types = Some(types.len());
        status.synced = types.is_empty();
    }
    let by_kind: HashMap<(String, String), ResourceType> = types
        .iter()
        .map(|t| ((t.api_version(), t.kind.clone()), t.clone()))
        .collect();
    let url = |value: &Value| {
        let type_key = (
            value["apiVersion"].as_str().unwrap_or("").to_owned(),
            value["kind"].as_str().unwrap_or("").to_owned(),
        );
        match by_kind.get(&type_key) {
            Some(resource) => object_url(&connection.server, resource, value),
            None => connection.server.clone(),
        }
    };
    let watch_options = WatchOptions {
        list: ListOptions {
            concurrency: 1,
            // Secrets as metadata only.
            secret_data: false,
            ..ListOptions::default()
        },
        retry,
        ..WatchOptions::default()
    };
    let (sink, mut changes) = mpsc::channel(1024);
    for resource in &types {
        tokio::spawn(watch(
            connection.clone(),
            resource.clone(),
            watch_options.clone(),
            sink.clone(),
        ));
    }
    drop(sink);
    while let Some(change) = changes.recv().await {
        match change {
            Change::Listed { resource, objects } => {
                let objects = objects
                    .into_iter()
                    .map(|value| {
                        let url = url(&value);
                        (value, url)
                    })
                    .collect();
                cache.replace(&resource.api_version(), &resource.kind, objects);
                let mut status = cache.status();
                status.listed.insert(resource.name());
                if !status.synced && Some(status.listed.len()) == status.types {
                    status.synced = true;
                    drop(status);
                    let objects = cache.len();
                    log.emit(|| tracing::info!(objects, "cluster state synced"));
                }
            }
            Change::Applied(value) => {
                let url = url(&value);
                cache.apply(value, &url);
            }
            Change::Deleted(value) => cache.delete(value),
            Change::Failed(error) => fail(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, privileged: bool) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "c", "image": "c:1",
                "securityContext": {"privileged": privileged}}]},
        })
    }

    fn ids(findings: &[Finding]) -> Vec<&'static str> {
        let mut ids: Vec<_> = findings.iter().map(|f| f.rule.id).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn an_update_replaces_the_cached_version_and_changes_follow() {
        let engine = Engine::default();
        let cache = ClusterCache::new(&engine);
        assert!(cache.kinds().contains("NetworkPolicy"));
        assert!(cache.kinds().contains("Namespace"));
        let namespace =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        cache.replace("v1", "Namespace", vec![(namespace, "ns".to_owned())]);
        // A kind no inventory rule reads is not kept.
        cache.apply(
            json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e"}}),
            "e",
        );
        cache.apply(pod("web", true), "cached-web");
        assert_eq!(cache.len(), 2);
        let admitted = Object::from_value(pod("web", false), "admission");
        let found = cache.findings(&engine, &admitted);
        assert!(found.iter().all(|f| f.file == "admission"), "{found:?}");
        // The cached version of the same pod is not a duplicate of the admitted one.
        assert!(!ids(&found).contains(&"YAML002"), "{found:?}");
        assert!(ids(&found).contains(&"NET001"), "{found:?}");
        let deny = json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "shop"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        });
        cache.apply(deny.clone(), "deny");
        assert!(!ids(&cache.findings(&engine, &admitted)).contains(&"NET001"));
        cache.delete(deny);
        assert!(ids(&cache.findings(&engine, &admitted)).contains(&"NET001"));
    }
}
