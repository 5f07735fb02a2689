//! Hostile and broken input: every case gives a located error, never a panic or a hang, and the
//! rest of the input is still decoded.

use palisade_core::{load_bytes, load_path, load_str, Limits, LoadErrorKind, Loaded, Pos};

const VALID: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n";

fn names(loaded: &Loaded) -> Vec<&str> {
    loaded.objects.iter().map(|o| o.name()).collect()
}

fn load(text: &str) -> Loaded {
    load_str(text, "in.yaml", &Limits::default())
}

#[test]
fn unparseable_document_is_located_and_later_documents_still_load() {
    let text = format!("{VALID}---\nkey: [unclosed\n---\n{VALID}");
    let loaded = load(&text);
    assert_eq!(names(&loaded), vec!["ok", "ok"]);
    assert_eq!(loaded.errors.len(), 1);
    let err = &loaded.errors[0];
    assert_eq!(err.kind, LoadErrorKind::Syntax);
    assert!(err.pos.line >= 6 && err.pos.line <= 7, "{err:?}");
    assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
}

#[test]
fn tab_indentation_is_an_error_at_the_tab() {
    let loaded = load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n");
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].pos, Pos::new(4, 2));
    assert!(
        loaded.errors[0].message.contains("tab"),
        "{}",
        loaded.errors[0].message
    );
}

#[test]
fn trailing_tab_after_a_value_is_accepted_like_the_api_server() {
    let loaded = load(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: LoadBalancer\t\n",
    );
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(
        loaded.objects[0].value.pointer("/spec/type").unwrap(),
        "LoadBalancer"
    );
}

#[test]
fn truncated_file_is_an_error() {
    let loaded = load("apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"trunc");
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::Syntax);
    assert_eq!(loaded.errors[0].pos.line, 4);
}

#[test]
fn binary_file_is_rejected_with_the_position_of_the_nul() {
    let mut bytes = b"apiVersion: v1\nki".to_vec();
    bytes.extend_from_slice(&[0, 1, 2, 0xff]);
    let loaded = load_bytes(&bytes, "bin.yaml", &Limits::default());
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::Binary);
    assert_eq!(loaded.errors[0].pos, Pos::new(2, 3));
}

#[test]
fn invalid_utf8_is_located() {
    let mut bytes = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf".to_vec();
    bytes.push(0xe9);
    bytes.push(b'\n');
    let loaded = load_bytes(&bytes, "latin1.yaml", &Limits::default());
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::Encoding);
    assert_eq!(loaded.errors[0].pos, Pos::new(4, 12));
}

#[test]
fn huge_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(200 * 1024 * 1024).unwrap();
    let loaded = load_path(&path, "huge.yaml", &Limits::default());
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::TooLarge);
    assert!(loaded.errors[0].message.contains("--max-file-size"));
}

#[test]
fn alias_bomb_is_stopped_by_the_expansion_limit() {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = i - 1;
        text.push_str(&format!(
            "  a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let text = format!("{text}---\n{VALID}");
    let loaded = load(&text);
    assert_eq!(names(&loaded), vec!["ok"]);
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::Limit);
    assert!(
        loaded.errors[0].message.contains("alias"),
        "{}",
        loaded.errors[0].message
    );
}

#[test]
fn deep_nesting_is_stopped_by_the_depth_limit() {
    let depth = 10_000;
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n  x: {}{}\n---\n{VALID}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let loaded = load(&text);
    assert_eq!(names(&loaded), vec!["ok"]);
    assert_eq!(loaded.errors.len(), 1);
    assert!(
        loaded.errors[0].message.contains("too deep"),
        "{}",
        loaded.errors[0].message
    );
    assert_eq!(loaded.errors[0].pos.line, 6);
}

#[test]
fn deep_block_nesting_is_stopped_too() {
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata:\n");
    for i in 0..2_000 {
        text.push_str(&" ".repeat(2 * (i + 1)));
        text.push_str("k:\n");
    }
    let loaded = load(&text);
    assert!(loaded.objects.is_empty());
    assert_eq!(loaded.errors.len(), 1);
}

#[test]
fn wrong_type_is_a_located_error_and_the_object_is_still_loaded() {
    let loaded = load("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 5\n");
    assert_eq!(names(&loaded), vec!["p"]);
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::Type);
    assert_eq!(loaded.errors[0].pos, Pos::new(6, 15));
    assert!(loaded.errors[0]
        .message
        .contains("spec.containers: expected a list, found a number"));
}

#[test]
fn empty_file_is_reported() {
    for text in ["", "\n\n", "# only a comment\n", "---\n"] {
        let loaded = load(text);
        assert_eq!(loaded.errors.len(), 1, "{text:?}");
        assert_eq!(loaded.errors[0].kind, LoadErrorKind::Empty);
        assert_eq!(loaded.errors[0].pos, Pos::new(1, 1));
    }
}

#[test]
fn complex_keys_are_an_error_not_a_panic() {
    let loaded = load(&format!("? [a, b]\n: c\n---\n{VALID}"));
    assert_eq!(names(&loaded), vec!["ok"]);
    assert_eq!(loaded.errors.len(), 1);
}

#[test]
fn unknown_alias_is_an_error() {
    let loaded = load(&format!("a: *nothing\n---\n{VALID}"));
    assert_eq!(names(&loaded), vec!["ok"]);
    assert_eq!(loaded.errors.len(), 1);
}
