//! The objects served, their resource versions and the history that watches replay.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::resources::{built_in, guess_plural, Resource};

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches deliver it. Cloning it is cheap: the history, every open watch and
/// the stored objects share the object, and its watch line is serialized once.
#[derive(Debug, Clone)]
pub struct Event {
    pub rv: u64,
    pub resource: usize,
    pub kind: EventType,
    /// The object as stored (with `apiVersion` and `kind`).
    pub object: Arc<Value>,
    /// The watch line, written by the first watch that sends the event.
    line: Arc<OnceLock<Bytes>>,
}

impl Event {
    pub(crate) fn new(rv: u64, resource: usize, kind: EventType, object: Arc<Value>) -> Event {
        Event {
            rv,
            resource,
            kind,
            object,
            line: Arc::default(),
        }
    }

    /// `{"type":…,"object":…}` and a newline, as a watch sends it.
    pub(crate) fn line(&self) -> Bytes {
        self.line
            .get_or_init(|| watch_line(self.kind.as_str(), &self.object))
            .clone()
    }
}

/// One line of a watch stream: `{"type":TYPE,"object":OBJECT}` and a newline.
pub(crate) fn watch_line(kind: &str, object: &Value) -> Bytes {
    let mut line = Vec::with_capacity(64);
    line.extend_from_slice(b"{\"type\":");
    // Writing JSON to a Vec fails only for keys that are not strings, which a Value cannot hold.
    let _ = serde_json::to_writer(&mut line, kind);
    line.extend_from_slice(b",\"object\":");
    let _ = serde_json::to_writer(&mut line, object);
    line.extend_from_slice(b"}\n");
    Bytes::from(line)
}

/// The resource of the event that ends open watches at a compaction.
pub const COMPACTED: usize = usize::MAX;

/// Objects of one resource type, by (namespace, name) in name order; the history and the
/// watches share them.
pub type Objects = BTreeMap<(String, String), Arc<Value>>;

pub struct Store {
    pub resources: Vec<Resource>,
    pub objects: Vec<Objects>,
    /// The resource version of the last change.
    pub rv: u64,
    /// Changes after `compacted`, oldest first: a watch from an older version gets `410 Gone`.
    pub history: VecDeque<Event>,
    pub compacted: u64,
    pub events: broadcast::Sender<Event>,
    next_uid: u64,
    /// Resource types left out on purpose: their objects are not stored.
    without: Vec<String>,
}

impl Store {
    pub fn new(without: &[String]) -> Store {
        let mut resources = built_in();
        resources.retain(|r| !without.iter().any(|w| matches_name(r, w)));
        let objects = vec![Objects::new(); resources.len()];
        let (events, _) = broadcast::channel(65536);
        Store {
            resources,
            objects,
            rv: 1,
            history: VecDeque::new(),
            compacted: 1,
            events,
            next_uid: 0,
            without: without.to_vec(),
        }
    }

    /// The index of the resource type serving `apiVersion` and `kind`, added when unknown
    /// (namespaced when the object has a namespace). `None` when it was left out on purpose.
    pub fn resource_for(
        &mut self,
        api_version: &str,
        kind: &str,
        namespaced: bool,
    ) -> Option<usize> {
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        if let Some(i) = self
            .resources
            .iter()
            .position(|r| r.group == group && r.version == version && r.kind == kind)
        {
            return Some(i);
        }
        // A known kind at another version keeps its plural and scope.
        let (plural, namespaced) = match self
            .resources
            .iter()
            .find(|r| r.group == group && r.kind == kind)
        {
            Some(r) => (r.plural.clone(), r.namespaced),
            None => match built_in().into_iter().find(|r| r.kind == kind) {
                Some(r) => (r.plural, r.namespaced),
                None => (guess_plural(kind), namespaced),
            },
        };
        let resource = Resource::new(group, version, kind, &plural, namespaced);
        if self.without.iter().any(|w| matches_name(&resource, w)) {
            return None;
        }
        self.resources.push(resource);
        self.objects.push(Objects::new());
        Some(self.resources.len() - 1)
    }

    /// Stores an object (created or replaced), giving it a uid, a resource version and, for a
    /// namespaced kind without one, the `default` namespace. Returns its resource, or `None`
    /// for an object that is not served.
    pub fn put(&mut self, mut object: Value) -> Option<usize> {
        let api_version = object.get("apiVersion")?.as_str()?.to_owned();
        let kind = object.get("kind")?.as_str()?.to_owned();
        let has_namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .is_some_and(|ns| !ns.is_empty());
        let resource = self.resource_for(&api_version, &kind, has_namespace)?;
        let namespaced = self.resources[resource].namespaced;
        let metadata = object
            .as_object_mut()?
            .entry("metadata")
            .or_insert_with(|| json!({}));
        let metadata = metadata.as_object_mut()?;
        let name = metadata.get("name").and_then(Value::as_str)?.to_owned();
        let namespace = if namespaced {
            let ns = metadata
                .get("namespace")
                .and_then(Value::as_str)
                .filter(|ns| !ns.is_empty())
                .unwrap_or("default")
                .to_owned();
            metadata.insert("namespace".into(), json!(ns));
            ns
        } else {
            metadata.remove("namespace");
            String::new()
        };
        let key = (namespace, name);
        let old_uid = self.objects[resource]
            .get(&key)
            .and_then(|o| o.pointer("/metadata/uid"))
            .cloned();
        if metadata.get("uid").and_then(Value::as_str).is_none() {
            let uid = old_uid.unwrap_or_else(|| {
                self.next_uid += 1;
                json!(format!("00000000-0000-4000-8000-{:012x}", self.next_uid))
            });
            metadata.insert("uid".into(), uid);
        }
        self.rv += 1;
        metadata.insert("resourceVersion".into(), json!(self.rv.to_string()));
        let kind = if self.objects[resource].contains_key(&key) {
            EventType::Modified
        } else {
            EventType::Added
        };
        let object = Arc::new(object);
        self.objects[resource].insert(key, object.clone());
        self.record(resource, kind, object);
        Some(resource)
    }

    /// Deletes an object; the deletion is a watch event.
    pub fn delete(&mut self, resource: usize, namespace: &str, name: &str) -> bool {
        let Some(mut object) =
            self.objects[resource].remove(&(namespace.to_owned(), name.to_owned()))
        else {
            return false;
        };
        self.rv += 1;
        // The history's earlier events keep their copy; this one gets the new version.
        if let Some(metadata) = Arc::make_mut(&mut object)
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
        {
            metadata.insert("resourceVersion".into(), json!(self.rv.to_string()));
        }
        self.record(resource, EventType::Deleted, object);
        true
    }

    fn record(&mut self, resource: usize, kind: EventType, object: Arc<Value>) {
        let event = Event::new(self.rv, resource, kind, object);
        // No receiver is not an error: nobody watches yet.
        let _ = self.events.send(event.clone());
        self.history.push_back(event);
        const KEPT: usize = 100_000;
        while self.history.len() > KEPT {
            if let Some(old) = self.history.pop_front() {
                self.compacted = old.rv;
            }
        }
    }

    /// The changes after resource version `rv`, oldest first (the history is in version order).
    pub fn since(&self, rv: u64) -> impl Iterator<Item = &Event> {
        let first = self.history.partition_point(|e| e.rv <= rv);
        self.history.range(first..)
    }

    /// Forgets the history: watches from any earlier resource version get `410 Gone`. Open
    /// watches end, as when the API server restarts.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted = self.rv;
        let _ = self.events.send(Event::new(
            self.rv,
            COMPACTED,
            EventType::Deleted,
            Arc::new(Value::Null),
        ));
    }
}

/// Whether `name` (`plural`, `plural.group`, or `kind`) names the resource type.
pub fn matches_name(r: &Resource, name: &str) -> bool {
    let full = if r.group.is_empty() {
        r.plural.clone()
    } else {
        format!("{}.{}", r.plural, r.group)
    };
    name == r.plural || name == full || name == r.kind
}
