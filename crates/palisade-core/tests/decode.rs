//! Decoding matches the API server (sigs.k8s.io/yaml over go-yaml v2) and keeps positions.

use palisade_core::{load_str, Limits, Pos};
use serde_json::json;

fn one(text: &str) -> palisade_core::Object {
    let mut loaded = load_str(text, "t.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.objects.len(), 1);
    loaded.objects.remove(0)
}

#[test]
fn yaml_1_1_scalars_as_the_api_server_decodes_them() {
    let o = one("apiVersion: v1\nkind: X\nmetadata: {name: x}\nspec:\n  a: yes\n  b: off\n  c: 0755\n  d: '0755'\n  e: ~\n  f: 0x10\n  g: 1.50\n  h: 2024-01-01\n  i: \"yes\"\n  on: 1\n");
    let spec = &o.value["spec"];
    assert_eq!(spec["a"], json!(true));
    assert_eq!(spec["b"], json!(false));
    assert_eq!(spec["c"], json!(493));
    assert_eq!(spec["d"], json!("0755"));
    assert_eq!(spec["e"], json!(null));
    assert_eq!(spec["f"], json!(16));
    assert_eq!(spec["g"], json!(1.5));
    assert_eq!(spec["h"], json!("2024-01-01"));
    assert_eq!(spec["i"], json!("yes"));
    assert_eq!(spec["true"], json!(1));
}

#[test]
fn merge_keys_and_aliases_resolve_with_go_yaml_v2_precedence() {
    let o = one("apiVersion: v1\nkind: X\nmetadata: {name: x}\nbase: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\nm:\n  <<: [*b, *o]\n  c: 5\nref: *b\nn: *o\n");
    assert_eq!(o.value["m"], json!({"a": 1, "b": 2, "c": 5}));
    assert_eq!(o.value["ref"], json!({"a": 1, "b": 2}));
    // `n` is the YAML 1.1 boolean false, and a boolean key becomes the string "false".
    assert_eq!(o.value["false"], json!({"b": 3, "c": 4}));
    assert!(o.duplicate_keys.is_empty());
}

#[test]
fn duplicate_keys_keep_the_last_value_and_are_recorded() {
    let o = one("apiVersion: v1\nkind: X\nmetadata:\n  name: x\nspec:\n  a: 1\n  b: 2\n  a: 3\n");
    assert_eq!(o.value["spec"]["a"], json!(3));
    assert_eq!(o.duplicate_keys.len(), 1);
    let d = &o.duplicate_keys[0];
    assert_eq!(d.pointer, "/spec/a");
    assert_eq!(d.pos, Pos::new(8, 3));
    assert_eq!(d.first, Pos::new(6, 3));
    assert_eq!(o.locate("/spec/a"), Pos::new(8, 3));
}

#[test]
fn duplicate_keys_in_list_items_and_large_mappings() {
    let keys: String = (0..40).map(|i| format!("    k{i}: v{i}\n")).collect();
    let text = format!(
        "apiVersion: v1\nkind: X\nmetadata:\n  name: x\nlist:\n- a: 1\n- b: 1\n  c: [1, {{d: 1, d: 2}}]\n  b: 2\nbig:\n  m:\n{keys}    k7: again\n    <<: {{k8: merged, z: merged}}\n"
    );
    let o = one(&text);
    assert_eq!(o.value["list"][1]["b"], json!(2));
    assert_eq!(o.value["list"][1]["c"][1]["d"], json!(2));
    let m = &o.value["big"]["m"];
    assert_eq!(m.as_object().map(|m| m.len()), Some(41));
    assert_eq!(m["k7"], json!("again"));
    // A key merged in after an explicit one overrides it (go-yaml v2), and is no duplicate.
    assert_eq!(m["k8"], json!("merged"));
    assert_eq!(m["z"], json!("merged"));
    let pointers: Vec<_> = o
        .duplicate_keys
        .iter()
        .map(|d| d.pointer.as_str())
        .collect();
    assert_eq!(pointers, ["/list/1/c/1/d", "/list/1/b", "/big/m/k7"]);
    assert_eq!(o.locate("/big/m/k7"), Pos::new(52, 5));
    assert_eq!(o.locate("/big/m/k39"), Pos::new(51, 5));
    assert_eq!(o.locate("/list/1/b"), Pos::new(9, 3));
}

#[test]
fn positions_of_fields_and_missing_fields() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: nginx\n    securityContext:\n      privileged: true\n";
    let o = one(text);
    assert_eq!(
        o.locate("/spec/containers/0/securityContext/privileged"),
        Pos::new(10, 7)
    );
    assert_eq!(o.locate("/spec/containers/0/image"), Pos::new(8, 5));
    assert_eq!(o.locate_value("/spec/containers/0/image"), Pos::new(8, 12));
    // A missing field points at the nearest existing parent; for a container, its `- name:` line.
    assert_eq!(
        o.locate("/spec/containers/0/resources/limits"),
        Pos::new(7, 5)
    );
    assert_eq!(
        o.locate_exact("/spec/containers/0/resources"),
        (Pos::new(7, 5), false)
    );
    assert_eq!(o.locate("/spec/securityContext"), Pos::new(5, 1));
}

#[test]
fn lists_yield_their_items_with_their_own_positions() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n- not: an object\n";
    let loaded = load_str(text, "l.yaml", &Limits::default());
    let names: Vec<_> = loaded
        .objects
        .iter()
        .map(|o| (o.kind(), o.name(), o.item))
        .collect();
    assert_eq!(
        names,
        vec![("ConfigMap", "a", Some(0)), ("Secret", "b", Some(1))]
    );
    assert_eq!(loaded.objects[1].locate("/metadata/name"), Pos::new(11, 5));
    assert_eq!(loaded.skipped, 1);
}

#[test]
fn json_files_decode_with_positions() {
    let text = "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\",\n  \"metadata\": {\"name\": \"j\"},\n  \"spec\": {\"hostNetwork\": true}\n}\n";
    let o = one(text);
    assert_eq!(o.value["spec"]["hostNetwork"], json!(true));
    assert_eq!(o.locate("/spec/hostNetwork").line, 5);
}

#[test]
fn non_objects_are_skipped_and_counted() {
    let loaded = load_str(
        "a: 1\n---\n- x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "s.yaml",
        &Limits::default(),
    );
    assert_eq!(loaded.objects.len(), 1);
    assert_eq!(loaded.skipped, 2);
}

#[test]
fn closing_bracket_less_indented_than_its_key_is_accepted_like_go_yaml() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n      args: [\n          \"-x\", \"y\",\n      ]\n      image: busybox:1\n";
    let o = one(text);
    assert_eq!(o.value["spec"]["containers"][0]["args"], json!(["-x", "y"]));
    assert_eq!(o.locate("/spec/containers/0/image"), Pos::new(10, 7));
}

#[test]
fn tabs_in_the_indentation_of_flow_collection_lines_are_accepted_like_go_yaml() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    args:\n      [\n        \"-x\",\n\t      \"-y\",\n      ]\n    image: busybox:1\n";
    let o = one(text);
    assert_eq!(
        o.value["spec"]["containers"][0]["args"],
        json!(["-x", "-y"])
    );
    assert_eq!(o.locate("/spec/containers/0/image"), Pos::new(12, 5));
}

#[test]
fn tabs_in_block_indentation_stay_errors() {
    let loaded = load_str(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {a: b}\n\tx: y\n",
        "t.yaml",
        &Limits::default(),
    );
    assert_eq!(loaded.errors.len(), 1);
}

#[test]
fn typed_list_items_take_the_element_kind() {
    let text = "apiVersion: v1\nkind: PodList\nitems:\n- metadata:\n    name: a\n  spec: {}\n";
    let o = one(text);
    assert_eq!((o.kind(), o.api_version(), o.name()), ("Pod", "v1", "a"));
    assert_eq!(o.locate("/metadata/name"), Pos::new(5, 5));
}

#[test]
fn quoted_scalar_continuation_lines_at_the_key_s_indentation_are_accepted_like_go_yaml() {
    // The Gatekeeper library's httpsonly template: a double-quoted description whose second
    // line is indented as far as its key (the YAML 1.2 parser wants one more column).
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"When set to `true` the TLS {} is optional, defaults\n  to false.\"\n  b: 'it''s\nnot indented\n\n  at all'   # comment\n  c: [\"x\n y\", z]\n  d: ok\n";
    let o = one(text);
    assert_eq!(
        o.value["data"],
        json!({
            "a": "When set to `true` the TLS {} is optional, defaults to false.",
            "b": "it's not indented\nat all",
            "c": ["x y", "z"],
            "d": "ok",
        })
    );
    assert_eq!(o.locate_value("/data/a"), Pos::new(6, 6));
    assert_eq!(o.locate_value("/data/b"), Pos::new(8, 6));
    // On a rewritten line, positions are those of the original text.
    assert_eq!(o.locate_value("/data/c/1"), Pos::new(13, 6));
    assert_eq!(o.locate("/data/d"), Pos::new(14, 3));
}

#[test]
fn quoted_scalars_cut_by_a_document_marker_stay_errors() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: \"x\n---\ny\"\n";
    let loaded = load_str(text, "t.yaml", &Limits::default());
    assert!(loaded.objects.is_empty());
    assert!(!loaded.errors.is_empty());
    assert_eq!(loaded.errors[0].pos, Pos::new(6, 6));
}
