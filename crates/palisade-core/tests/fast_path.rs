//! The loader's fast scanner (for the block-style subset manifests are written in) gives
//! exactly what the full YAML parser gives: the same objects with the same values, positions
//! and duplicate keys, the same document numbers, errors and skipped documents, on every file
//! of the corpus and on generated YAML in and around the subset.

use palisade_core::{load_str_with, Decoding, Limits, Loaded};
use proptest::prelude::*;

/// Everything a loaded input holds, positions included, as comparable text.
fn describe(loaded: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    for o in &loaded.objects {
        out.push(format!(
            "object doc {} item {:?} value {} spans {:?} duplicates {:?}",
            o.document, o.item, o.value, o.spans, o.duplicate_keys
        ));
    }
    for e in &loaded.errors {
        out.push(format!("error {e} {:?}", e.kind));
    }
    out.push(format!("skipped {}", loaded.skipped));
    out
}

fn assert_same(text: &str, display: &str, limits: &Limits) {
    let fast = load_str_with(text, display, limits, Decoding::FastPath);
    let full = load_str_with(text, display, limits, Decoding::FullParser);
    assert_eq!(describe(&fast), describe(&full), "{display}: {text:?}");
}

#[test]
fn every_corpus_file_loads_the_same_with_the_fast_scanner() {
    let Some(root) = palisade_testdata::shared(
        "corpus",
        "every_corpus_file_loads_the_same_with_the_fast_scanner",
    ) else {
        return;
    };
    let paths = palisade_testdata::files_with(&root, &["yaml", "yml", "json"]);
    assert!(paths.len() > 1000, "only {} corpus files", paths.len());
    let limits = Limits::default();
    let mut objects = 0;
    for path in &paths {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let display = path.display().to_string();
        assert_same(text, &display, &limits);
        objects += load_str_with(text, &display, &limits, Decoding::FastPath)
            .objects
            .len();
    }
    assert!(objects > 3000, "only {objects} objects");
}

#[test]
fn limits_stop_both_scanners_at_the_same_node() {
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  a: x\n  b: [1, 2, {{c: d}}]\n"
        ));
        if i == 30 {
            // A document the fast scanner leaves to the full parser, in the middle.
            text.push_str(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: anchored\nother: *m\n",
            );
        }
    }
    for max_file_nodes in [0, 1, 7, 8, 9, 100, 263, 264, 265, 500, 10_000] {
        let limits = Limits {
            max_file_nodes,
            ..Limits::default()
        };
        assert_same(&text, "limits.yaml", &limits);
    }
    for max_depth in [1, 2, 3, 4] {
        let limits = Limits {
            max_depth,
            ..Limits::default()
        };
        assert_same(&text, "depth.yaml", &limits);
    }
}

#[test]
fn edge_cases_load_the_same() {
    let object = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    for body in [
        "data:\n  a: yes\n  b: 0755\n  c: ~\n  d: 1e3\n  e: 0x1F\n  f: 1_000\n  g: .inf\n  h: 2021-01-01\n",
        "data:\n  a: 1\n  a: 2\n  <<: {b: 3}\n",
        "data:\n  \"quoted key\": 'v'\n  'single': \"\\u00e9\\n\"\n  empty:\n  list:\n  - a\n  - - b\n    - c\n  -\n",
        "spec:\n  containers:\n  - name: a\n    image: x:1 # comment\n    args: [\"--a\", '--b', c]\n    env: []\n    resources: {}\n",
        "data:\n  script: |\n    #!/bin/sh\n    echo hi\n\n    exit 0\n  folded: >-\n    one\n    two\n\n    three\n  kept: |+\n    x\n\n",
        "items:\n- 1\n- two\n",
        "data:\n  long: ",
        "data: {a: [1, [2, [3, {b: c}]]]}\n",
        "data:\n  a: b\n    c\n",
        "data:\n  a: &x 1\n  b: *x\n",
        "data:\n  a: \"x\n  y\"\n",
        "data:\n  a: [\n    b,\n  ]\n",
        "data:\n  a: b: c\n",
        "data:\n\ta: b\n",
        "data:\n  - a\n  b: c\n",
        "data:\n  a: b\n    - c\n    \"d\n    'e\n    [f\n    {g\n    *h\n    &i\n    !j\n    |k\n    >l\n    %m\n    @n\n    `o\n    ? p\n    , q\n    ] r\n    } s\n    :t\n    -\n  u: v\n",
        "items:\n- a\n  - b\n  -c\n- d\n",
        "data:\n  a: b\n    : c\n",
        "data:\n  a: b\n    - c: d\n",
    ] {
        let text = format!("{object}{body}");
        assert_same(&text, "edge.yaml", &Limits::default());
        assert_same(&format!("---\n{text}---\n{text}...\n"), "edge.yaml", &Limits::default());
        assert_same(&format!("# c\n{text}---\n\n---\n{text}"), "edge.yaml", &Limits::default());
    }
    let long = format!("{object}data:\n  a: {}\n", "x".repeat(5000));
    assert_same(&long, "long.yaml", &Limits::default());
    let unicode = format!("{object}data:\n  ключ: значение # коммент\n  k: [é, \"ü\", {{ö: ä}}]\n  x: [1, {{a: b}}, z]\n");
    assert_same(&unicode, "unicode.yaml", &Limits::default());
}

/// A scalar in one of the styles manifests use, YAML 1.1 words and numbers included, or
/// something the fast scanner leaves to the full parser.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9./-]{0,10}",
        1 => prop_oneof![
            Just("~"), Just("null"), Just("yes"), Just("No"), Just("on"), Just("y"), Just("0755"),
            Just("0x1f"), Just("1_000"), Just("-12"), Just("+3"), Just("1.5"), Just("1e3"),
            Just(".inf"), Just("2021-01-01"), Just("500m"), Just("true"), Just("0"), Just("-"),
        ].prop_map(str::to_owned),
        1 => "[a-z]{1,5}( [a-z]{1,5}){0,3}",
        1 => "[a-z]{1,4}:[a-z0-9/]{1,6}",
        1 => "'[a-z ]{0,6}(''[a-z]{0,3})?'",
        1 => "\"[a-z #:]{0,6}(\\\\[nt\"\\\\/]|\\\\u00e9)?\"",
        1 => prop_oneof![
            Just("café"), Just("日本語"), Just("a #b"), Just("a#b"), Just("[]"), Just("{}"),
            Just("[a, 'b', \"c\"]"), Just("{a: b, \"c\": [d]}"), Just("&a x"), Just("*a"),
            Just("!!str 1"), Just("!!int \"3\""), Just("\"x"), Just("[a,"), Just("x\t"), Just("'a'b"),
            Just("@x"), Just("`x"), Just("%x"), Just("? x"), Just(": x"), Just("a: b"), Just("- a"),
        ].prop_map(str::to_owned),
        1 => "x{100,1200}",
        1 => Just(String::new()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-zA-Z0-9]{0,6}",
        1 => prop_oneof![
            Just("\"k y\""), Just("'q'"), Just("<<"), Just("1"), Just("yes"), Just("~"),
            Just("a b"), Just("? a"), Just("[a]"), Just("\"\""), Just("é"), Just("-a"),
        ].prop_map(str::to_owned),
    ]
}

/// A node as lines relative to its own indentation.
fn node(depth: u32) -> BoxedStrategy<Vec<String>> {
    let comment = prop_oneof![4 => Just(""), 1 => Just(" # note"), 1 => Just("  ")];
    let leaf = (scalar(), comment)
        .prop_map(|(s, c)| vec![format!("{s}{c}")])
        .boxed();
    if depth == 0 {
        return leaf;
    }
    let block_scalar = (
        prop_oneof![
            Just("|"), Just("|-"), Just("|+"), Just(">"), Just(">-"), Just(">+"), Just("| # c"),
            Just("|2"),
        ],
        proptest::collection::vec(
            prop_oneof![4 => "[a-z]{1,5}( [a-z]{1,5}){0,2}", 1 => Just(String::new()), 1 => Just("  more".to_owned()), 1 => Just("# hash".to_owned())],
            1..5,
        ),
    )
        .prop_map(|(header, lines)| {
            let mut out = vec![header.to_owned()];
            out.extend(lines.into_iter().map(|l| {
                if l.is_empty() {
                    l
                } else {
                    format!("  {l}")
                }
            }));
            out
        })
        .boxed();
    // A multi-line plain or quoted scalar: continuation lines are marked for `put`.
    let multi_line = (
        prop_oneof![
            3 => "[a-z]{1,5}( [a-z]{1,5}){0,2}",
            1 => "\"[a-z]{1,5}( [a-z]{1,5}){0,2}(\\\\|\\t| |\\ )?",
            1 => "'[a-z]{1,5}( [a-z'']{1,5}){0,2} ?",
        ],
        proptest::collection::vec(
            prop_oneof![
                4 => "[a-z.]{1,5}( [a-z]{1,5}){0,2}",
                1 => Just(String::new()),
                1 => Just("a: b".to_owned()),
                1 => Just("# c".to_owned()),
                1 => Just("x # c".to_owned()),
                1 => Just("- x".to_owned()),
                1 => prop_oneof![
                    Just("-x"), Just("-"), Just("\"x"), Just("'x"), Just("[x"), Just("{x}"),
                    Just("*x"), Just("&x y"), Just("!x"), Just("|x"), Just(">x"), Just("%x"),
                    Just("@x"), Just("`x"), Just("? x"), Just(", x"), Just("] x"), Just(":x"),
                    Just(": x"), Just("x:"),
                ].prop_map(str::to_owned),
                1 => Just("   deeper".to_owned()),
            ],
            1..4,
        ),
        0usize..3,
    )
        .prop_map(|(first, lines, extra)| {
            let close = match first.as_bytes()[0] {
                b'"' => "\"",
                b'\'' => "'",
                _ => "",
            };
            let mut out = vec![first];
            out.extend(lines.into_iter().map(|l| {
                if l.is_empty() {
                    "\u{1}".to_owned()
                } else {
                    format!("\u{1}{}{l}", " ".repeat(extra))
                }
            }));
            if !close.is_empty() {
                out.push(format!("\u{1}{}{close}", " ".repeat(extra)));
            }
            out
        })
        .boxed();
    let child = node(depth - 1);
    let mapping = proptest::collection::vec((key(), child.clone(), any::<bool>()), 1..5)
        .prop_map(|entries| {
            let mut out = Vec::new();
            for (key, value, flag) in entries {
                put(&mut out, &format!("{key}:"), value, flag, true);
            }
            out
        })
        .boxed();
    let sequence = proptest::collection::vec((child, any::<bool>()), 1..4)
        .prop_map(|items| {
            let mut out = Vec::new();
            for (item, flag) in items {
                put(&mut out, "-", item, flag, false);
            }
            out
        })
        .boxed();
    prop_oneof![2 => leaf, 1 => block_scalar, 1 => multi_line, 3 => mapping, 2 => sequence].boxed()
}

/// Appends a node under `head` (`key:` or `-`): a one-line node on the same line, a block
/// scalar after its header, a collection below (a sequence under a key indented or not, a
/// collection in a sequence entry compact when `flag`).
fn put(out: &mut Vec<String>, head: &str, value: Vec<String>, flag: bool, under_key: bool) {
    let first = value[0].clone();
    let multi_line = value.get(1).is_some_and(|l| l.starts_with('\u{1}'));
    let is_collection = value.len() > 1 && !first.starts_with(['|', '>']) && !multi_line;
    if !is_collection {
        out.push(format!("{head} {first}").trim_end().to_owned());
        out.extend(
            value
                .into_iter()
                .skip(1)
                .map(|l| match l.strip_prefix('\u{1}') {
                    // Continuation lines of a plain scalar: indented one or two columns past `head`.
                    Some("") => String::new(),
                    Some(l) if head.len().is_multiple_of(2) => format!(" {l}"),
                    Some(l) => format!("  {l}"),
                    None => format!("  {l}"),
                }),
        );
        return;
    }
    if !under_key && flag {
        // `- key: value` / `- - x`: the rest aligned with the first.
        out.push(format!("{head} {first}"));
        out.extend(value.into_iter().skip(1).map(|l| format!("  {l}")));
        return;
    }
    out.push(head.to_owned());
    let pad = if under_key && flag && first.starts_with('-') {
        ""
    } else {
        "  "
    };
    out.extend(
        value
            .into_iter()
            .map(|l| if l.is_empty() { l } else { format!("{pad}{l}") }),
    );
}

/// Documents that are objects (so that the comparison sees their values), with separators,
/// comments and blank lines between them.
fn stream() -> impl Strategy<Value = String> {
    let document = (node(3), any::<bool>()).prop_map(|(body, object)| {
        let mut lines = Vec::new();
        if object {
            lines.push("apiVersion: v1".to_owned());
            lines.push("kind: ConfigMap".to_owned());
            if body.len() > 1 || body[0].contains(": ") {
                lines.push("data:".to_owned());
                lines.extend(body.into_iter().map(|l| format!("  {l}")));
            } else {
                lines.push(format!("data: {}", body[0]));
            }
        } else {
            lines = body;
        }
        lines
    });
    let separator = prop_oneof![
        Just("---\n"),
        Just("--- # c\n"),
        Just("\n---\n"),
        Just("# c\n---\n"),
        Just("...\n---\n"),
        Just("---\n---\n"),
    ];
    proptest::collection::vec((document, separator), 1..4).prop_map(|docs| {
        let mut text = String::new();
        for (lines, separator) in docs {
            for line in lines {
                text.push_str(&line);
                text.push('\n');
            }
            text.push_str(separator);
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn generated_yaml_loads_the_same(text in stream()) {
        assert_same(&text, "generated.yaml", &Limits::default());
    }

    #[test]
    fn mutated_yaml_loads_the_same(
        text in stream(),
        cut in any::<proptest::sample::Index>(),
        insert in prop_oneof![
            Just(""), Just(" "), Just("\n"), Just(":"), Just("- "), Just("#"), Just("\""),
            Just("  "), Just("\t"), Just("---\n"), Just("{"), Just("]"), Just("é"),
        ],
        drop in 0usize..3,
    ) {
        let at = cut.index(text.len() + 1);
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let end = (at..=text.len()).find(|&i| i >= at + drop && text.is_char_boundary(i)).unwrap_or(text.len());
        let mutated = format!("{}{insert}{}", &text[..at], &text[end..]);
        assert_same(&mutated, "mutated.yaml", &Limits::default());
    }

    #[test]
    fn small_budgets_stop_both_at_the_same_node(text in stream(), nodes in 0usize..60) {
        let limits = Limits { max_file_nodes: nodes, ..Limits::default() };
        assert_same(&text, "budget.yaml", &limits);
    }
}
