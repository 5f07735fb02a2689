//! Decoding a stream in chunks gives what decoding it whole gives: the same objects with the
//! same positions and document numbers, the same errors and skipped documents.

use palisade_core::{load_chunk, load_str, split_stream, Entry, Limits, NodeBudget, Source};

/// A stream exercising what chunking could break: a syntax error in the middle (decoding
/// resumes at the next marker), a `List`, a document that is not an object, empty documents,
/// block scalars, a flow collection that the loader relaxes, and comments between documents.
fn stream() -> String {
    let mut text = String::from("# leading comment\n");
    for i in 0..60 {
        match i % 6 {
            0 => text.push_str(&format!(
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  script: |\n    echo {i}\n    exit 0\n"
            )),
            1 => text.push_str(&format!(
                "---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {{name: s{i}}}\n- apiVersion: v1\n  kind: Secret\n  metadata: {{name: t{i}}}\n"
            )),
            2 => text.push_str("---\n# only a comment\n---\njust: a map\n"),
            3 => text.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: broken{i}\nspec: [a, b\n  c: d\n"
            )),
            4 => text.push_str(&format!(
                "--- \napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers: [\n\t{{name: a, image: x}}\n  ]\n"
            )),
            _ => text.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, labels: {{app: x}}}}\nspec:\n  replicas: 2\n"
            )),
        }
    }
    text
}

fn describe(entry: Entry, offset: usize) -> (usize, String) {
    match entry {
        Entry::Object(o) => (
            o.document + offset,
            format!(
                "{} {} item {:?} at {} spec at {} dup {}",
                o.kind(),
                o.name(),
                o.item,
                o.locate(""),
                o.locate("/spec"),
                o.duplicate_keys.len()
            ),
        ),
        Entry::Error(e) => (
            offset,
            format!("error {} {:?} {}", e.pos, e.kind, e.message),
        ),
        Entry::Skipped => (offset, "skipped".to_owned()),
    }
}

#[test]
fn chunked_decoding_matches_whole_stream_decoding() {
    let text = stream();
    let limits = Limits::default();
    let source = Source::new("s.yaml");
    let mut whole = Vec::new();
    let whole_budget = NodeBudget::file(&limits);
    let documents = load_chunk(
        split_stream(&text, usize::MAX)[0],
        &source,
        &limits,
        &whole_budget,
        &mut |e| whole.push(describe(e, 0)),
    );
    let loaded = load_str(&text, "s.yaml", &limits);
    assert_eq!(loaded.objects.len(), 50, "{:?}", loaded.errors);
    assert_eq!(loaded.errors.len(), 10);
    assert_eq!(loaded.skipped, 10);
    for target in [1, 100, 1000] {
        let chunks = split_stream(&text, target);
        assert!(chunks.len() > 1);
        assert_eq!(chunks.iter().map(|c| c.text).collect::<String>(), text);
        let mut parts = Vec::new();
        let mut offset = 0;
        let budget = NodeBudget::file(&limits);
        for chunk in chunks {
            let mut local = Vec::new();
            let count = load_chunk(chunk, &source, &limits, &budget, &mut |e| local.push(e));
            parts.extend(local.into_iter().map(|e| describe(e, offset)));
            offset += count;
        }
        assert_eq!(offset, documents, "documents with chunks of {target} bytes");
        assert_eq!(
            budget.used(),
            whole_budget.used(),
            "nodes counted with chunks of {target} bytes"
        );
        // Errors and skipped documents carry no document number: compare them in order only.
        let strip = |v: &[(usize, String)]| -> Vec<String> {
            v.iter()
                .map(|(d, w)| {
                    if w.starts_with("error") || w == "skipped" {
                        w.clone()
                    } else {
                        format!("{d}: {w}")
                    }
                })
                .collect()
        };
        assert_eq!(strip(&parts), strip(&whole), "chunks of {target} bytes");
    }
    for expected in ["Secret t1 item Some(1)", "Pod p4 item None"] {
        assert!(
            whole.iter().any(|(_, w)| w.contains(expected)),
            "{expected}"
        );
    }
}

#[test]
fn streams_with_directives_stay_whole() {
    let text = "%YAML 1.1\n---\na: 1\n---\nb: 2\n".repeat(10);
    assert_eq!(split_stream(&text, 1).len(), 1);
    let text = "a: 1\n---\nb: 2\n";
    assert_eq!(split_stream(text, 1).len(), 2);
    assert_eq!(split_stream(text, 1)[1].first_line, 1);
}
