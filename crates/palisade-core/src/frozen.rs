//! Objects kept in a compact encoding until they are read again.
//!
//! A decoded object costs about 200 bytes a node (a `serde_json` map entry, a `String` per key
//! and a [`SpanNode`] per value); the same fields and positions encoded in one byte buffer take a
//! tenth of that. Inventory rules keep many objects until the end of a run and read a few fields
//! of each once or twice: they keep them [`Frozen`], read what identifies an object and the
//! position of a field straight from the encoding, and [`Frozen::thaw`] an object to read the
//! rest.
//!
//! The encoding is a pre-order walk of the value. Each node starts with a tag byte (its type,
//! whether its value's position is its key's, whether it has a position at all) and, unless it
//! has none, the line and column of its key and value as LEB128 varints. Strings (their UTF-8)
//! and numbers (their kind and eight bytes, so that a float reads back exactly) follow as a
//! length and their bytes; sequences and mappings as their number of children and the byte
//! length of the children (a little-endian `u32`, so that a walk skips what it does not
//! enter), then the children, each member of a mapping after its key. A child has no position when its parent's [`SpanNode`] has none for it (objects
//! that did not come from a file); children with positions come first, as in a [`SpanNode`].

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Number, Value};

use crate::load::DuplicateKey;
use crate::object::{Fields, Object, ObjectRef, Source};
use crate::pointer;
use crate::pos::{Pos, SpanNode};

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const NUMBER: u8 = 3;
const STRING: u8 = 4;
const ARRAY: u8 = 5;
const OBJECT: u8 = 6;
const TYPE: u8 = 0b111;
/// The kinds of a number ([`number_bytes`]).
const U64: u8 = 0;
const I64: u8 = 1;
const F64: u8 = 2;
/// The value's position is the key's (sequence elements, document roots).
const SAME_POS: u8 = 0b1000;
/// The node has no position (nor do its children).
const NO_POS: u8 = 0b1_0000;

/// An [`Object`] (or the fields of it that a [`Fields`] names) in the compact encoding of this
/// module: [`Frozen::thaw`] gives back the same value, positions and duplicate keys.
#[derive(Debug, Clone)]
pub struct Frozen {
    source: Arc<Source>,
    document: usize,
    item: Option<usize>,
    bytes: Box<[u8]>,
    nodes: u32,
    duplicate_keys: Box<[DuplicateKey]>,
    /// Where in `bytes` the strings that identify the object are (read for every object by
    /// every inventory rule): [`Frozen::api_version`], [`Frozen::kind`], [`Frozen::name`] and
    /// [`Frozen::namespace`], as start and length (empty: none).
    identity: [(u32, u32); 4],
}

impl Frozen {
    /// The whole object.
    pub fn new(object: &Object) -> Frozen {
        Frozen::of(object, &Fields::all())
    }

    /// The object reduced to `fields`, as [`Object::project`] reduces it.
    pub fn of(object: &Object, fields: &Fields) -> Frozen {
        let mut bytes = Vec::new();
        let nodes = encode(&mut bytes, &object.value, Some(&object.spans), Some(fields));
        let mut frozen = Frozen {
            source: Arc::clone(&object.source),
            document: object.document,
            item: object.item,
            bytes: bytes.into_boxed_slice(),
            nodes: u32::try_from(nodes).unwrap_or(u32::MAX),
            duplicate_keys: object.duplicate_keys.clone().into_boxed_slice(),
            identity: [(0, 0); 4],
        };
        let name = frozen
            .str_at("/metadata/name")
            .or_else(|| frozen.str_at("/metadata/generateName"));
        let identity = [
            frozen.str_at("/apiVersion"),
            frozen.str_at("/kind"),
            name,
            frozen.str_at("/metadata/namespace"),
        ]
        .map(|text| frozen.range(text.unwrap_or("")));
        frozen.identity = identity;
        frozen
    }

    /// Where `text`, a string of the encoding, is in it.
    fn range(&self, text: &str) -> (u32, u32) {
        if text.is_empty() {
            return (0, 0);
        }
        let start = text.as_ptr() as usize - self.bytes.as_ptr() as usize;
        let fit = |n: usize| u32::try_from(n).expect("a frozen object is under 4 GiB");
        (fit(start), fit(text.len()))
    }

    /// Identity string `which` ([`Frozen::identity`]).
    fn identity(&self, which: usize) -> &str {
        let (start, len) = self.identity[which];
        let bytes = &self.bytes[start as usize..(start + len) as usize];
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    /// The object, decoded.
    pub fn thaw(&self) -> Object {
        let mut input = &self.bytes[..];
        let (value, spans) = decode(&mut input);
        Object {
            source: Arc::clone(&self.source),
            document: self.document,
            item: self.item,
            value,
            spans: spans.unwrap_or_default(),
            duplicate_keys: self.duplicate_keys.to_vec(),
        }
    }

    /// The object, decoded without its positions ([`Object::locate`] then gives line 0), for
    /// readers of its values alone: faster to decode than [`Frozen::thaw`].
    pub fn thaw_unlocated(&self) -> Object {
        Object {
            source: Arc::clone(&self.source),
            document: self.document,
            item: self.item,
            value: decode_value(&mut &self.bytes[..]),
            spans: SpanNode::default(),
            duplicate_keys: self.duplicate_keys.to_vec(),
        }
    }

    /// The bytes the encoding takes on the heap.
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn source(&self) -> &Arc<Source> {
        &self.source
    }

    pub fn document(&self) -> usize {
        self.document
    }

    /// Renumbers the object's document (objects decoded in parts of one file).
    pub fn set_document(&mut self, document: usize) {
        self.document = document;
    }

    pub fn item(&self) -> Option<usize> {
        self.item
    }

    /// The string at `pointer`, if the field is a string.
    pub fn str_at(&self, pointer: &str) -> Option<&str> {
        self.find(pointer)?.as_str()
    }

    /// The value at `pointer`, decoded.
    pub fn value_at(&self, pointer: &str) -> Option<Value> {
        Some(decode_value(&mut self.find(pointer)?.raw))
    }

    /// Whether the field at `pointer` exists (with a position or not).
    pub fn exists(&self, pointer: &str) -> bool {
        self.find(pointer).is_some()
    }

    /// The nodes of the object as kept ([`crate::value_nodes`] of the thawed value).
    pub fn nodes(&self) -> usize {
        self.nodes as usize
    }

    fn find(&self, pointer: &str) -> Option<Node<'_>> {
        let mut node = self.root();
        for token in pointer::tokens(pointer) {
            node = node.child(&token)?;
        }
        Some(node)
    }

    /// [`Object::api_version`].
    pub fn api_version(&self) -> &str {
        self.identity(0)
    }

    /// [`Object::kind`].
    pub fn kind(&self) -> &str {
        self.identity(1)
    }

    /// [`Object::group`].
    pub fn group(&self) -> &str {
        match self.api_version().rsplit_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }

    /// [`Object::name`].
    pub fn name(&self) -> &str {
        self.identity(2)
    }

    /// [`Object::namespace`].
    pub fn namespace(&self) -> Option<&str> {
        Some(self.identity(3)).filter(|ns| !ns.is_empty())
    }

    /// [`Object::annotation`].
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.root()
            .child("metadata")?
            .child("annotations")?
            .child(key)?
            .as_str()
    }

    /// [`Object::reference`].
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version().to_owned(),
            kind: self.kind().to_owned(),
            namespace: self.namespace().map(str::to_owned),
            name: self.name().to_owned(),
            uid: self.str_at("/metadata/uid").map(str::to_owned),
        }
    }

    /// [`Object::locate`]: the position of the deepest node with a position on the path of
    /// `pointer`.
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut node = self.root();
        for token in pointer::tokens(pointer) {
            match node.child(&token) {
                Some(child) if child.tag & NO_POS == 0 => node = child,
                _ => break,
            }
        }
        node.key()
    }

    fn root(&self) -> Node<'_> {
        Node::read(&mut &self.bytes[..])
    }
}

/// One encoded node: its tag, positions, and the bytes of its payload (a string's or number's
/// text, the children of a container).
struct Node<'b> {
    /// The whole encoded node.
    raw: &'b [u8],
    tag: u8,
    payload: &'b [u8],
    /// Number of children of a container.
    len: usize,
}

impl<'b> Node<'b> {
    /// Reads the node at the start of `input` and moves past it.
    fn read(input: &mut &'b [u8]) -> Node<'b> {
        let start = *input;
        let tag = byte(input);
        if tag & NO_POS == 0 {
            let varints = if tag & SAME_POS == 0 { 4 } else { 2 };
            for _ in 0..varints {
                skip_varint(input);
            }
        }
        let (len, size) = match tag & TYPE {
            NUMBER | STRING => (0, varint(input)),
            ARRAY | OBJECT => (varint(input), u32_le(input)),
            _ => (0, 0),
        };
        let (payload, rest) = input.split_at(size);
        *input = rest;
        Node {
            raw: &start[..start.len() - rest.len()],
            tag,
            payload,
            len,
        }
    }

    /// The position of the node's key (the default for a node without positions).
    fn key(&self) -> Pos {
        if self.tag & NO_POS != 0 {
            return Pos::default();
        }
        pos(&mut &self.raw[1..])
    }

    /// The member `token` of a mapping or the element of a sequence it numbers.
    fn child(&self, token: &str) -> Option<Node<'b>> {
        match self.tag & TYPE {
            OBJECT => self.member(token),
            ARRAY => token.parse::<usize>().ok().and_then(|i| self.element(i)),
            _ => None,
        }
    }

    /// The text of a string or number.
    fn as_text(&self) -> &'b str {
        std::str::from_utf8(self.payload).expect("a frozen object's strings are UTF-8")
    }

    fn as_str(&self) -> Option<&'b str> {
        match self.tag & TYPE {
            STRING => std::str::from_utf8(self.payload).ok(),
            _ => None,
        }
    }

    /// The member `key` of a mapping.
    fn member(&self, key: &str) -> Option<Node<'b>> {
        let mut input = self.payload;
        for _ in 0..self.len {
            let size = varint(&mut input);
            let (name, rest) = input.split_at(size);
            input = rest;
            let child = Node::read(&mut input);
            if name == key.as_bytes() {
                return Some(child);
            }
        }
        None
    }

    /// Element `index` of a sequence.
    fn element(&self, index: usize) -> Option<Node<'b>> {
        if index >= self.len {
            return None;
        }
        let mut input = self.payload;
        for _ in 0..index {
            Node::read(&mut input);
        }
        Some(Node::read(&mut input))
    }
}

/// Encodes `value` with its positions (`None`: it has none), reduced to `fields` (`None`: whole)
/// as `prune` in `object.rs` reduces it: mappings on the way to a kept field stay, sequences
/// reached by member names stay whole, and a kept member without a position gets the default
/// one. Returns the number of nodes encoded.
fn encode(
    out: &mut Vec<u8>,
    value: &Value,
    spans: Option<&SpanNode>,
    fields: Option<&Fields>,
) -> usize {
    let fields = fields.filter(|f| !f.is_all());
    let fields = match value {
        Value::Object(_) => fields,
        Value::Array(_) => fields.and_then(Fields::each),
        _ => None,
    };
    let (tag, payload) = match value {
        Value::Null => (NULL, None),
        Value::Bool(false) => (FALSE, None),
        Value::Bool(true) => (TRUE, None),
        Value::Number(n) => (NUMBER, Some(Cow::Owned(number_bytes(n)))),
        Value::String(s) => (STRING, Some(Cow::Borrowed(s.as_bytes()))),
        Value::Array(_) => (ARRAY, None),
        Value::Object(_) => (OBJECT, None),
    };
    let tag = match spans {
        None => tag | NO_POS,
        Some(spans) if spans.key == spans.value => tag | SAME_POS,
        Some(_) => tag,
    };
    out.push(tag);
    if let Some(spans) = spans {
        put_pos(out, spans.key);
        if spans.key != spans.value {
            put_pos(out, spans.value);
        }
    }
    if let Some(bytes) = payload {
        put_varint(out, bytes.len());
        out.extend_from_slice(&bytes);
        return 1;
    }
    // The children's spans: when reducing, a kept child without one gets the default; whole,
    // it has none.
    let empty = SpanNode::default();
    let child_spans = |index: usize| match (spans, fields) {
        (Some(spans), Some(_)) => Some(spans.children.get(index).unwrap_or(&empty)),
        (Some(spans), None) => spans.children.get(index),
        (None, _) => None,
    };
    let mut nodes = 1;
    match value {
        Value::Array(items) => {
            put_varint(out, items.len());
            let at = reserve_u32(out);
            for (index, item) in items.iter().enumerate() {
                nodes += encode(out, item, child_spans(index), fields);
            }
            patch_u32(out, at);
        }
        Value::Object(map) => {
            let kept = map
                .keys()
                .filter(|key| fields.is_none_or(|f| f.member(key).is_some()))
                .count();
            put_varint(out, kept);
            let at = reserve_u32(out);
            for (index, (key, child)) in map.iter().enumerate() {
                let sub = match fields {
                    Some(f) => match f.member(key) {
                        Some(sub) => Some(sub),
                        None => continue,
                    },
                    None => None,
                };
                put_varint(out, key.len());
                out.extend_from_slice(key.as_bytes());
                nodes += encode(out, child, child_spans(index), sub);
            }
            patch_u32(out, at);
        }
        _ => {}
    }
    nodes
}

/// Decodes the node at the start of `input` into its value and, if it has them, positions.
fn decode(input: &mut &[u8]) -> (Value, Option<SpanNode>) {
    let tag = byte(input);
    let spans = (tag & NO_POS == 0).then(|| {
        let key = pos(input);
        let value = if tag & SAME_POS == 0 { pos(input) } else { key };
        SpanNode::leaf(key, value)
    });
    let children_spans = |spans: &mut Option<SpanNode>, child: Option<SpanNode>| {
        if let (Some(spans), Some(child)) = (spans.as_mut(), child) {
            spans.children.push(child);
        }
    };
    let mut spans = spans;
    let value = match tag & TYPE {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        NUMBER => {
            let size = varint(input);
            let (bytes, rest) = input.split_at(size);
            *input = rest;
            Value::Number(number(bytes))
        }
        STRING => Value::String(text(input).to_owned()),
        ARRAY => {
            let len = children(input, &mut spans);
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                let (item, child) = decode(input);
                items.push(item);
                children_spans(&mut spans, child);
            }
            Value::Array(items)
        }
        _ => {
            let len = children(input, &mut spans);
            let mut map = Map::with_capacity(len);
            for _ in 0..len {
                let key = text(input).to_owned();
                let (child, child_span) = decode(input);
                map.insert(key, child);
                children_spans(&mut spans, child_span);
            }
            Value::Object(map)
        }
    };
    (value, spans)
}

/// The number of children of the container whose tag and positions were read from `input`,
/// read past their byte length, with room made for their positions.
fn children(input: &mut &[u8], spans: &mut Option<SpanNode>) -> usize {
    let len = varint(input);
    u32_le(input);
    if let Some(spans) = spans.as_mut() {
        spans.children.reserve_exact(len);
    }
    len
}

/// A number as its kind (`u64`, `i64` or `f64`: [`U64`], [`I64`], [`F64`]) and its eight bytes,
/// little-endian: read back exactly (printed and parsed again, a float may not be).
fn number_bytes(n: &Number) -> Vec<u8> {
    let (kind, bits) = if let Some(u) = n.as_u64() {
        (U64, u)
    } else if let Some(i) = n.as_i64() {
        (I64, i.cast_unsigned())
    } else {
        (F64, n.as_f64().unwrap_or_default().to_bits())
    };
    let mut bytes = Vec::with_capacity(9);
    bytes.push(kind);
    bytes.extend_from_slice(&bits.to_le_bytes());
    bytes
}

/// The number [`number_bytes`] encoded.
fn number(bytes: &[u8]) -> Number {
    let (&kind, bits) = bytes.split_first().expect("a frozen number has its kind");
    let bits = u64::from_le_bytes(bits.try_into().expect("a frozen number has eight bytes"));
    match kind {
        U64 => Number::from(bits),
        I64 => Number::from(bits.cast_signed()),
        _ => Number::from_f64(f64::from_bits(bits)).expect("a frozen float is finite"),
    }
}

/// Decodes the value of the node at the start of `input`, without its positions.
fn decode_value(input: &mut &[u8]) -> Value {
    let node = Node::read(input);
    let mut children = node.payload;
    match node.tag & TYPE {
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        NUMBER => Value::Number(number(node.payload)),
        STRING => Value::String(node.as_text().to_owned()),
        ARRAY => Value::Array((0..node.len).map(|_| decode_value(&mut children)).collect()),
        _ => {
            let mut map = Map::with_capacity(node.len);
            for _ in 0..node.len {
                let key = text(&mut children).to_owned();
                map.insert(key, decode_value(&mut children));
            }
            Value::Object(map)
        }
    }
}

fn byte(input: &mut &[u8]) -> u8 {
    let (&first, rest) = input.split_first().expect("a frozen object is well formed");
    *input = rest;
    first
}

fn varint(input: &mut &[u8]) -> usize {
    let mut value = 0usize;
    let mut shift = 0;
    loop {
        let b = byte(input);
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return value;
        }
        shift += 7;
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn skip_varint(input: &mut &[u8]) {
    while byte(input) & 0x80 != 0 {}
}

fn pos(input: &mut &[u8]) -> Pos {
    let line = varint(input);
    let col = varint(input);
    Pos::new(clamp(line), clamp(col))
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn put_pos(out: &mut Vec<u8>, pos: Pos) {
    put_varint(out, pos.line as usize);
    put_varint(out, pos.col as usize);
}

fn u32_le(input: &mut &[u8]) -> usize {
    let (bytes, rest) = input.split_at(4);
    *input = rest;
    u32::from_le_bytes(bytes.try_into().expect("four bytes")) as usize
}

/// Leaves room for a byte length, to be written by [`patch_u32`] once the bytes that follow
/// are written.
fn reserve_u32(out: &mut Vec<u8>) -> usize {
    out.extend_from_slice(&[0; 4]);
    out.len()
}

fn patch_u32(out: &mut [u8], at: usize) {
    let size = u32::try_from(out.len() - at).expect("a frozen object is under 4 GiB");
    out[at - 4..at].copy_from_slice(&size.to_le_bytes());
}

/// A length-prefixed string.
fn text<'b>(input: &mut &'b [u8]) -> &'b str {
    let size = varint(input);
    let (bytes, rest) = input.split_at(size);
    *input = rest;
    std::str::from_utf8(bytes).expect("a frozen object's strings are UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_str, Limits};

    const INPUT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: 1234
  annotations:
    palisade.dev/ignore: POD001
    a/b~c: x
  labels: {app: web}
spec:
  replicas: 3
  ratio: 0.25
  precise: -103319178813.67325
  big: 18446744073709551615
  negative: -7
  template:
    spec:
      containers:
      - name: app
        image: \"nginx:1.25\"
        ports: [{containerPort: 80}, {containerPort: 443}]
        env: []
        securityContext: {privileged: true, readOnlyRootFilesystem: false}
        command: ~
      - name: side
        image: busybox
  empty: {}
---
apiVersion: v1
kind: Service
metadata:
  generateName: web-
spec:
  ports:
  - port: 80
    port: 81
";

    fn objects() -> Vec<Object> {
        load_str(INPUT, "a.yaml", &Limits::default()).objects
    }

    fn text_len(value: &Value) -> usize {
        match value {
            Value::String(s) => s.len(),
            Value::Number(n) => n.to_string().len(),
            Value::Array(items) => items.iter().map(text_len).sum(),
            Value::Object(map) => map.iter().map(|(k, v)| k.len() + text_len(v)).sum(),
            _ => 0,
        }
    }

    fn same(a: &Object, b: &Object) {
        assert_eq!(a.value, b.value);
        assert_eq!(a.spans, b.spans);
        assert_eq!(a.duplicate_keys, b.duplicate_keys);
        assert_eq!((a.document, a.item), (b.document, b.item));
        assert_eq!(a.source, b.source);
    }

    #[test]
    fn a_thawed_object_is_the_object() {
        for object in objects() {
            let frozen = Frozen::new(&object);
            same(&frozen.thaw(), &object);
            let unlocated = frozen.thaw_unlocated();
            assert_eq!(unlocated.value, object.value);
            assert_eq!(unlocated.spans, SpanNode::default());
            assert_eq!(frozen.nodes(), crate::limits::value_nodes(&object.value));
            // Tag, positions and lengths: at most 16 bytes a node here, besides the text.
            let nodes = crate::limits::value_nodes(&object.value);
            let text = text_len(&object.value);
            assert!(
                frozen.encoded_len() <= 16 * nodes + text,
                "{} bytes for {nodes} nodes and {text} bytes of text",
                frozen.encoded_len()
            );
        }
    }

    #[test]
    fn reduced_it_is_the_projection() {
        let reductions = [
            vec!["/kind", "/metadata/name"],
            vec![
                "/spec/template/spec/containers/*/securityContext",
                "/nothing",
            ],
            vec![
                "/spec/template/spec/containers",
                "/metadata/annotations/a~1b~0c",
            ],
            vec!["/spec/template/spec/containers/*/ports/*/containerPort"],
            vec!["/spec/ports/*", "/spec/empty", "/spec/replicas/x"],
            vec![""],
            vec![],
        ];
        for object in objects() {
            for pointers in &reductions {
                let fields = Fields::of(pointers.iter().copied());
                let frozen = Frozen::of(&object, &fields);
                let projected = object.project(&fields);
                same(&frozen.thaw(), &projected);
                assert_eq!(frozen.nodes(), crate::limits::value_nodes(&projected.value));
                // Fields dropped are located at the nearest kept parent, as in the projection.
                for (pointer, _) in object.key_positions() {
                    assert_eq!(
                        frozen.locate(&pointer),
                        projected.locate(&pointer),
                        "{pointer}"
                    );
                }
            }
        }
    }

    #[test]
    fn fields_and_positions_are_read_without_thawing() {
        for object in objects() {
            let frozen = Frozen::new(&object);
            assert_eq!(frozen.kind(), object.kind());
            assert_eq!(frozen.api_version(), object.api_version());
            assert_eq!(frozen.group(), object.group());
            assert_eq!(frozen.name(), object.name());
            assert_eq!(frozen.namespace(), object.namespace());
            assert_eq!(frozen.reference(), object.reference());
            for key in ["palisade.dev/ignore", "a/b~c", "missing"] {
                assert_eq!(frozen.annotation(key), object.annotation(key), "{key}");
            }
            let mut pointers: Vec<String> =
                object.key_positions().into_iter().map(|(p, _)| p).collect();
            pointers.extend(
                [
                    "/spec/template/spec/containers/7",
                    "/spec/x/y",
                    "/kind/z",
                    "/spec/ports/a",
                ]
                .map(str::to_owned),
            );
            for pointer in &pointers {
                assert_eq!(frozen.locate(pointer), object.locate(pointer), "{pointer}");
                assert_eq!(
                    frozen.value_at(pointer).as_ref(),
                    object.value.pointer(pointer),
                    "{pointer}"
                );
                assert_eq!(
                    frozen.exists(pointer),
                    object.value.pointer(pointer).is_some(),
                    "{pointer}"
                );
            }
        }
        let objects = objects();
        let deployment = Frozen::new(&objects[0]);
        assert_eq!(deployment.reference().uid.as_deref(), None);
        assert_eq!(
            deployment.str_at("/spec/template/spec/containers/1/image"),
            Some("busybox")
        );
        assert_eq!(
            deployment
                .locate("/spec/template/spec/containers/1/image")
                .line,
            27
        );
        assert_eq!(Frozen::new(&objects[1]).name(), "web-");
    }

    #[test]
    fn an_object_without_positions_stays_without() {
        let value = serde_json::json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}]}});
        let object = Object::from_value(value, "-");
        let frozen = Frozen::new(&object);
        same(&frozen.thaw(), &object);
        assert!(frozen.exists("/spec/containers/0"));
        assert_eq!(frozen.kind(), "Pod");
        assert_eq!(frozen.str_at("/spec/containers/0/name"), Some("a"));
        assert_eq!(
            frozen.locate("/spec/containers/0"),
            object.locate("/spec/containers/0")
        );
        let fields = Fields::of(["/spec/containers/*/name"]);
        same(
            &Frozen::of(&object, &fields).thaw(),
            &object.project(&fields),
        );
    }
}
