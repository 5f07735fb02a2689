//! Hostile and broken input: every case gives a located error, never a panic or a hang, and the
//! rest of the input is still decoded.

use palisade_core::{
    load_bytes, load_chunk, load_path, load_str, value_nodes, Chunk, Limits, LoadErrorKind, Loaded,
    NodeBudget, Pos, Source,
};

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

fn budget(max_file_nodes: usize) -> Limits {
    Limits {
        max_file_nodes,
        ..Limits::default()
    }
}

/// Decodes `text` whole with a budget of `max_file_nodes`: the nodes charged, and the error.
fn charged(text: &str, max_file_nodes: usize) -> (usize, Option<palisade_core::LoadError>) {
    let limits = budget(max_file_nodes);
    let budget = NodeBudget::file(&limits);
    let chunk = Chunk {
        text,
        first_line: 0,
    };
    load_chunk(
        chunk,
        &Source::new("in.yaml"),
        &limits,
        &budget,
        &mut |_| {},
    );
    (budget.used(), budget.error("in.yaml"))
}

#[test]
fn block_sequence_over_the_node_budget_is_refused_at_the_node_that_crosses_it() {
    // The sequence is node 1 and the item on line `i` node `i + 1`: item 1000 crosses 1000.
    let text = "- a\n".repeat(100_000);
    let loaded = load_str(&text, "in.yaml", &budget(1000));
    assert!(loaded.objects.is_empty());
    assert_eq!(loaded.errors.len(), 1, "{:?}", loaded.errors);
    let error = &loaded.errors[0];
    assert_eq!(error.kind, LoadErrorKind::Limit);
    assert_eq!(error.pos, Pos::new(1000, 3));
    assert!(
        error.message.contains("1000 YAML nodes") && error.message.contains("--max-file-nodes"),
        "{}",
        error.message
    );
    // Decoding stopped there: not one node more was counted.
    assert_eq!(charged(&text, 1000).0, 1001);
    assert_eq!(charged(&text, 10_000_000).0, 100_001);
}

#[test]
fn flow_sequence_over_the_node_budget_is_cut_before_the_parser_reads_it_all() {
    // The parser keeps the tokens of a whole flow collection until its end: it is stopped after
    // `[` and 1000 commas; the error is at the last item read, on column 2000.
    let text = format!("[{}a]\n", "a,".repeat(1_000_000));
    let (used, error) = charged(&text, 1000);
    assert_eq!(used, 1001);
    let error = error.expect("over budget");
    assert_eq!(error.kind, LoadErrorKind::Limit);
    assert_eq!(error.pos, Pos::new(1, 2000));
    assert!(error.message.contains("--max-file-nodes"), "{error}");
}

#[test]
fn json_within_the_node_budget_loads() {
    let data: Vec<String> = (0..400).map(|i| format!("\"k{i}\": \"v, {i}\"")).collect();
    let text = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {{\"name\": \"c\"}}, \
         \"data\": {{{}}}}}",
        data.join(", ")
    );
    // 406 nodes, and 806 flow indicators read ahead (the commas in the values count too).
    let loaded = load_str(&text, "in.json", &budget(1000));
    assert_eq!(names(&loaded), vec!["c"], "{:?}", loaded.errors);
    assert_eq!(charged(&text, 1000).0, 406);
    let loaded = load_str(&text, "in.json", &budget(405));
    assert_eq!(loaded.errors[0].kind, LoadErrorKind::Limit);
}

#[test]
fn a_file_over_the_node_budget_is_refused_whole_and_other_files_still_load() {
    let big = format!("{VALID}---\nitems:\n{}---\n{VALID}", "- a\n".repeat(5000));
    let loaded = load_str(&big, "big.yaml", &budget(1000));
    assert!(loaded.objects.is_empty() && loaded.skipped == 0);
    assert_eq!(loaded.errors.len(), 1);
    assert_eq!(loaded.errors[0].file, "big.yaml");
    let loaded = load_str(VALID, "small.yaml", &budget(1000));
    assert_eq!(names(&loaded), vec!["ok"]);
}

#[test]
fn alias_expansions_count_against_the_node_budget() {
    let text = format!(
        "{VALID}data:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n  b: [{}]\n",
        vec!["*a"; 50].join(", ")
    );
    // 5 nodes before `data`, 1 for it, 11 for `a`, 1 for `b` and 11 for each alias.
    assert_eq!(charged(&text, 1000).0, 5 + 1 + 11 + 1 + 50 * 11);
    assert!(charged(&text, 500).1.is_some());
}

#[test]
fn run_budget_refuses_the_objects_that_do_not_fit_and_keeps_room_for_others() {
    let limits = Limits {
        max_run_nodes: 12,
        ..Limits::default()
    };
    let run = NodeBudget::run(&limits);
    let small = load(VALID).objects; // 5 nodes
    let big = load(&format!("{VALID}data: {{a: b, c: d}}\n")).objects; // 8 nodes
    assert_eq!(value_nodes(&small[0].value), 5);
    assert!(run.hold(&small).is_ok());
    let error = run.hold(&big).unwrap_err();
    assert_eq!(
        (error.kind, error.pos),
        (LoadErrorKind::Limit, Pos::new(1, 1))
    );
    assert!(error.message.contains("--max-run-nodes"), "{error}");
    assert_eq!(run.used(), 5);
    assert!(run.hold(&small).is_ok());
    assert_eq!(run.used(), 10);
    assert!(run.hold(&[]).is_ok());
}

#[test]
fn a_document_decoded_again_after_relaxing_its_indentation_is_counted_once() {
    let clean = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [\n    {name: a, image: x}\n  ]\n";
    let tabbed = clean.replace("    {name", "\t{name");
    let text = format!("{VALID}---\n{tabbed}");
    assert_eq!(names(&load(&text)), vec!["ok", "p"]);
    let (used, error) = charged(&text, 1000);
    assert_eq!(error, None);
    assert_eq!(used, charged(&format!("{VALID}---\n{clean}"), 1000).0);
}
