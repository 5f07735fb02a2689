//! A frozen object is the object: thawed, it has the same value, positions and duplicate keys,
//! reduced it is the projection, and what is read from the encoding without thawing (identity,
//! values, positions) is what the object gives. On every object of the corpus and on generated
//! values with generated positions.

use std::sync::Arc;

use palisade_core::{load_str, Fields, Frozen, Limits, Object, Pos, Source, SpanNode};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Reductions the inventory rules use, and some that cut through sequences and scalars.
const REDUCTIONS: &[&[&str]] = &[
    &[
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/generateName",
        "/metadata/namespace",
        "/metadata/uid",
        "/metadata/annotations/palisade.dev~1ignore",
    ],
    &[
        "/kind",
        "/metadata/labels",
        "/spec/template/spec/containers/*/securityContext",
        "/spec/template/spec/containers/*/ports",
        "/spec/template/spec/serviceAccountName",
    ],
    &["/spec/*/*", "/rules/*/verbs", "/subjects"],
    &["/metadata/name/x", "/spec/replicas"],
];

fn assert_same(thawed: &Object, object: &Object, what: &str) {
    assert_eq!(thawed.value, object.value, "{what}");
    assert_eq!(thawed.spans, object.spans, "{what}");
    assert_eq!(thawed.duplicate_keys, object.duplicate_keys, "{what}");
    assert_eq!(
        (thawed.document, thawed.item, &thawed.source),
        (object.document, object.item, &object.source),
        "{what}"
    );
}

/// Every check of this file on one object.
fn check(object: &Object, what: &str) {
    let frozen = Frozen::new(object);
    assert_same(&frozen.thaw(), object, what);
    assert_eq!(frozen.thaw_unlocated().value, object.value, "{what}");
    assert_eq!(frozen.kind(), object.kind(), "{what}");
    assert_eq!(frozen.name(), object.name(), "{what}");
    assert_eq!(frozen.namespace(), object.namespace(), "{what}");
    assert_eq!(frozen.reference(), object.reference(), "{what}");
    assert_eq!(
        frozen.annotation("palisade.dev/ignore"),
        object.annotation("palisade.dev/ignore"),
        "{what}"
    );
    let pointers: Vec<String> = object
        .key_positions()
        .into_iter()
        .map(|(pointer, _)| pointer)
        .collect();
    for pointer in &pointers {
        assert_eq!(
            frozen.locate(pointer),
            object.locate(pointer),
            "{what} {pointer}"
        );
        assert_eq!(
            frozen.value_at(pointer).as_ref(),
            object.value.pointer(pointer),
            "{what} {pointer}"
        );
    }
    for reduction in REDUCTIONS {
        let fields = Fields::of(reduction.iter().copied());
        let reduced = Frozen::of(object, &fields);
        let projected = object.project(&fields);
        assert_same(&reduced.thaw(), &projected, what);
        assert_eq!(
            reduced.nodes(),
            palisade_core::value_nodes(&projected.value),
            "{what}"
        );
        for pointer in &pointers {
            assert_eq!(
                reduced.locate(pointer),
                projected.locate(pointer),
                "{what} {reduction:?} {pointer}"
            );
        }
    }
}

#[test]
fn every_corpus_object_is_frozen_and_thawed_as_it_was() {
    let Some(root) = palisade_testdata::shared(
        "corpus",
        "every_corpus_object_is_frozen_and_thawed_as_it_was",
    ) else {
        return;
    };
    let limits = Limits::default();
    let mut objects = 0;
    for path in palisade_testdata::files_with(&root, &["yaml", "yml", "json"]) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let display = path.display().to_string();
        for object in load_str(&text, &display, &limits).objects {
            check(&object, &display);
            objects += 1;
        }
    }
    assert!(objects > 3000, "only {objects} objects");
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "[a-z~/é0-9 ]{0,12}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(("[a-z~/]{0,6}", inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Positions for `value`, numbered in order; the children of a container are left without
/// positions where `cut` says (as objects that did not come from a file have none).
fn spans(value: &Value, next: &mut u32, cut: &mut impl Iterator<Item = bool>) -> SpanNode {
    *next += 1;
    let key = Pos::new(*next, 1 + *next % 7);
    let at = if next.is_multiple_of(3) {
        key
    } else {
        Pos::new(*next, 9)
    };
    let mut node = SpanNode::leaf(key, at);
    let children: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => Vec::new(),
    };
    if cut.next() != Some(true) {
        for child in children {
            node.children.push(spans(child, next, cut));
        }
    }
    node
}

proptest! {
    #[test]
    fn generated_objects_are_frozen_and_thawed_as_they_were(
        value in value(),
        cuts in prop::collection::vec(prop::bool::weighted(0.15), 0..64),
        with_kind in any::<bool>(),
    ) {
        let value = match (with_kind, value) {
            (true, Value::Object(mut map)) => {
                map.insert("kind".into(), "Pod".into());
                map.insert("metadata".into(), serde_json::json!({"name": "p", "namespace": "n"}));
                Value::Object(map)
            }
            (_, value) => value,
        };
        let spans = spans(&value, &mut 0, &mut cuts.into_iter());
        let object = Object {
            source: Arc::new(Source { path: "gen.yaml".into() }),
            document: 3,
            item: Some(1),
            value,
            spans,
            duplicate_keys: Vec::new(),
        };
        check(&object, "generated");
    }
}
