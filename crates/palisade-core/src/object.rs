use std::hash::BuildHasher;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::load::DuplicateKey;
use crate::pointer;
use crate::pos::{Pos, SpanNode};

/// Where objects came from: a path as given on the command line, or `-` for standard input.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source {
    pub path: String,
}

impl Source {
    pub fn new(path: impl Into<String>) -> Arc<Source> {
        Arc::new(Source { path: path.into() })
    }
}

/// A reference to a Kubernetes object, as reports print it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// `metadata.uid`: objects read from a cluster have one, manifests rarely.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// One Kubernetes object decoded from a manifest, with the source position of every field.
#[derive(Debug, Clone)]
pub struct Object {
    pub source: Arc<Source>,
    /// Index of the YAML document in its file (0-based).
    pub document: usize,
    /// Index in the `items` of a `List` document, when the object came from one.
    pub item: Option<usize>,
    pub value: Value,
    pub spans: SpanNode,
    /// Keys that appear twice in one mapping of this object (the last value wins).
    pub duplicate_keys: Vec<DuplicateKey>,
}

impl Object {
    /// An object that did not come from a file (an admission request, a cluster read): it has
    /// no source positions, and [`Object::locate`] gives line 0.
    pub fn from_value(value: Value, source: &str) -> Object {
        Object {
            source: Source::new(source),
            document: 0,
            item: None,
            value,
            spans: SpanNode::default(),
            duplicate_keys: Vec::new(),
        }
    }

    pub fn api_version(&self) -> &str {
        get(&self.value, "apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        get(&self.value, "kind")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The API group of the object (`""` for the core group).
    pub fn group(&self) -> &str {
        match self.api_version().rsplit_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }

    pub fn name(&self) -> &str {
        self.metadata_str("name")
            .or_else(|| self.metadata_str("generateName"))
            .unwrap_or("")
    }

    pub fn namespace(&self) -> Option<&str> {
        self.metadata_str("namespace").filter(|ns| !ns.is_empty())
    }

    fn metadata_str(&self, field: &str) -> Option<&str> {
        get(get(&self.value, "metadata")?, field)?.as_str()
    }

    pub fn labels(&self) -> Option<&serde_json::Map<String, Value>> {
        get(get(&self.value, "metadata")?, "labels")?.as_object()
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        get(get(get(&self.value, "metadata")?, "annotations")?, key)?.as_str()
    }

    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().to_owned(),
            uid: self.metadata_str("uid").map(str::to_owned),
        }
    }

    /// The position of the field at `pointer`: the key of a mapping entry, the element of a
    /// sequence, or, when the field does not exist, the nearest existing parent.
    pub fn locate(&self, pointer: &str) -> Pos {
        locate(&self.value, &self.spans, pointer).0
    }

    /// The JSON pointer of every field of the object that has a position, the object itself
    /// (`""`) first, each with the position [`Object::locate`] gives for it.
    pub fn key_positions(&self) -> Vec<(String, Pos)> {
        let mut out = Vec::new();
        key_positions(&self.value, &self.spans, &mut String::new(), &mut out);
        out
    }

    /// Like [`Object::locate`], and also says whether the exact field exists.
    pub fn locate_exact(&self, pointer: &str) -> (Pos, bool) {
        locate(&self.value, &self.spans, pointer)
    }

    /// The position of the value (not the key) at `pointer`, or of its nearest existing parent.
    pub fn locate_value(&self, pointer: &str) -> Pos {
        let (node, _) = walk(&self.value, &self.spans, pointer);
        node.value
    }

    /// The same object with only `fields` kept (and the positions of what is kept), for
    /// readers that need a few fields of many objects: the inventory rules keep their objects
    /// this way until the end of a run. Mappings on the way to a kept field stay (empty if
    /// nothing under them is kept); sequences keep all their elements, so pointers and
    /// positions of what is kept are those of the whole object.
    pub fn project(&self, fields: &Fields) -> Object {
        let (value, spans) = prune(&self.value, &self.spans, fields);
        Object {
            source: Arc::clone(&self.source),
            document: self.document,
            item: self.item,
            value,
            spans,
            duplicate_keys: self.duplicate_keys.clone(),
        }
    }

    /// A digest of the object's content, equal for two objects whose values are equal
    /// (`serde_json::Value` equality: the order of mapping keys does not count).
    /// The hash is foldhash's with a fixed seed: the same for the same content in every run.
    pub fn content_digest(&self) -> u64 {
        let mut hasher = DIGEST.build_hasher();
        hash_value(&self.value, &mut hasher);
        std::hash::Hasher::finish(&hasher)
    }
}

/// Which fields of an object a reader needs, as JSON pointers where `*` stands for every
/// member of a mapping or element of a sequence (`/spec/containers/*/ports`). A pointer names
/// the whole value under it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    all: bool,
    members: Vec<(String, Fields)>,
    each: Option<Box<Fields>>,
}

impl Fields {
    /// Nothing.
    pub fn none() -> Fields {
        Fields::default()
    }

    /// The whole object.
    pub fn all() -> Fields {
        Fields {
            all: true,
            ..Fields::default()
        }
    }

    /// The fields at these pointers.
    pub fn of<'p>(pointers: impl IntoIterator<Item = &'p str>) -> Fields {
        let mut fields = Fields::none();
        for pointer in pointers {
            fields.add(pointer);
        }
        fields
    }

    /// Adds the field at `pointer` (`""`: the whole object).
    pub fn add(&mut self, pointer: &str) {
        let mut node = self;
        for token in pointer::tokens(pointer) {
            if node.all {
                return;
            }
            node = if token == "*" {
                node.each.get_or_insert_with(Box::default)
            } else {
                let at = match node.members.iter().position(|(k, _)| *k == token) {
                    Some(at) => at,
                    None => {
                        node.members.push((token.into_owned(), Fields::none()));
                        node.members.len() - 1
                    }
                };
                &mut node.members[at].1
            };
        }
        *node = Fields::all();
    }

    /// Whether the whole value is kept.
    pub fn is_all(&self) -> bool {
        self.all
    }

    /// What is kept of each element of a sequence (`None`: the sequence is kept whole).
    pub(crate) fn each(&self) -> Option<&Fields> {
        self.each.as_deref()
    }

    /// What is kept under member `key` (`None`: the member is dropped).
    pub(crate) fn member(&self, key: &str) -> Option<&Fields> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| f)
            .or(self.each.as_deref())
    }
}

fn prune(value: &Value, spans: &SpanNode, fields: &Fields) -> (Value, SpanNode) {
    if fields.all {
        return (value.clone(), spans.clone());
    }
    let mut node = SpanNode {
        key: spans.key,
        value: spans.value,
        children: Vec::new(),
    };
    let empty = SpanNode::default();
    let pruned = match value {
        Value::Object(map) => {
            // Sized to what is kept: kept objects are many, and a map or list grown by
            // insertion holds room for more.
            let members = map
                .keys()
                .filter(|key| fields.member(key).is_some())
                .count();
            let mut kept = serde_json::Map::with_capacity(members);
            node.children.reserve_exact(members);
            for (index, (key, child)) in map.iter().enumerate() {
                let Some(sub) = fields.member(key) else {
                    continue;
                };
                let (child, span) = prune(child, spans.children.get(index).unwrap_or(&empty), sub);
                kept.insert(key.clone(), child);
                node.children.push(span);
            }
            Value::Object(kept)
        }
        Value::Array(items) => match fields.each.as_deref() {
            Some(each) => {
                let mut kept = Vec::with_capacity(items.len());
                node.children.reserve_exact(items.len());
                for (index, child) in items.iter().enumerate() {
                    let (child, span) =
                        prune(child, spans.children.get(index).unwrap_or(&empty), each);
                    kept.push(child);
                    node.children.push(span);
                }
                Value::Array(kept)
            }
            // Elements are never dropped: a sequence reached by member names is kept whole.
            None => return (value.clone(), spans.clone()),
        },
        _ => return (value.clone(), spans.clone()),
    };
    (pruned, node)
}

/// The member `key` of a mapping value ([`pointer::member`]).
fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    pointer::member(value.as_object()?, key)
}

/// The hasher of [`Object::content_digest`].
const DIGEST: foldhash::quality::FixedState =
    foldhash::quality::FixedState::with_seed(0x7061_6c69_7361_6465);

fn hash_value(value: &Value, hasher: &mut impl std::hash::Hasher) {
    use std::hash::Hash;
    match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(b) => (1u8, b).hash(hasher),
        Value::Number(n) => (2u8, n).hash(hasher),
        Value::String(s) => (3u8, s).hash(hasher),
        Value::Array(items) => {
            (4u8, items.len()).hash(hasher);
            for item in items {
                hash_value(item, hasher);
            }
        }
        Value::Object(map) => {
            // Map equality ignores the order of keys: entries are combined in any order.
            let mut sum = 0u64;
            for (key, child) in map {
                let mut entry = DIGEST.build_hasher();
                key.hash(&mut entry);
                hash_value(child, &mut entry);
                sum = sum.wrapping_add(std::hash::Hasher::finish(&entry));
            }
            (5u8, map.len(), sum).hash(hasher);
        }
    }
}

/// [`Object::key_positions`] of `value` at `pointer`: a field without a position (beyond the
/// children `spans` has) is left out with what is under it, as [`walk`] stops there.
fn key_positions(
    value: &Value,
    spans: &SpanNode,
    pointer: &mut String,
    out: &mut Vec<(String, Pos)>,
) {
    out.push((pointer.clone(), spans.key));
    let len = pointer.len();
    match value {
        Value::Object(map) => {
            for ((key, child), node) in map.iter().zip(&spans.children) {
                pointer.push('/');
                pointer.push_str(&pointer::escape(key));
                key_positions(child, node, pointer, out);
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (index, (child, node)) in items.iter().zip(&spans.children).enumerate() {
                pointer.push('/');
                pointer.push_str(&index.to_string());
                key_positions(child, node, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn walk<'a>(value: &'a Value, spans: &'a SpanNode, pointer: &str) -> (&'a SpanNode, bool) {
    let mut value = value;
    let mut node = spans;
    for token in pointer::tokens(pointer) {
        let next = match value {
            Value::Object(map) => map
                .iter()
                .enumerate()
                .find(|(_, (key, _))| *key == token.as_ref())
                .map(|(index, (_, child))| (index, child)),
            Value::Array(items) => token
                .parse::<usize>()
                .ok()
                .and_then(|index| items.get(index).map(|child| (index, child))),
            _ => None,
        };
        match next.and_then(|(index, child)| node.children.get(index).map(|n| (n, child))) {
            Some((child_node, child_value)) => {
                node = child_node;
                value = child_value;
            }
            None => return (node, false),
        }
    }
    (node, true)
}

fn locate(value: &Value, spans: &SpanNode, pointer: &str) -> (Pos, bool) {
    let (node, exact) = walk(value, spans, pointer);
    (node.key, exact)
}

#[cfg(test)]
mod tests {
    use crate::{load_str, Limits};

    const POLICY: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  annotations:
    a/b~c: x
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/8
    ports:
    - port: 443
  - {}
";

    #[test]
    fn every_field_has_the_position_locate_gives() {
        let objects = load_str(POLICY, "p.yaml", &Limits::default()).objects;
        let object = &objects[0];
        let fields = object.key_positions();
        assert_eq!(fields.len(), crate::limits::value_nodes(&object.value));
        assert_eq!(fields[0].0, "");
        for (pointer, pos) in &fields {
            assert_eq!(object.locate_exact(pointer), (*pos, true), "{pointer}");
        }
        let pointers: Vec<&str> = fields.iter().map(|(p, _)| p.as_str()).collect();
        for expected in [
            "/metadata/annotations/a~1b~0c",
            "/spec/ingress/0/from/0/ipBlock/cidr",
            "/spec/ingress/0/ports/0/port",
            "/spec/ingress/1",
        ] {
            assert!(pointers.contains(&expected), "{expected} in {pointers:?}");
        }
        assert!(fields.iter().any(|(_, pos)| pos.line == 14), "{fields:?}");
    }

    #[test]
    fn an_object_without_positions_has_only_its_own() {
        let object = super::Object::from_value(serde_json::json!({"kind": "Pod"}), "-");
        assert_eq!(
            object.key_positions(),
            vec![(String::new(), object.locate(""))]
        );
    }
}
