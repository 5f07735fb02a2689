//! Every file of the real-world corpus (`../shared/corpus`) loads within the default limits:
//! the node budget refuses none of them, with a wide margin.

use palisade_core::{load_chunk, Chunk, Limits, LoadErrorKind, NodeBudget, Source};

#[test]
fn no_corpus_file_is_refused_by_the_default_limits() {
    let Some(root) =
        palisade_testdata::shared("corpus", "no_corpus_file_is_refused_by_the_default_limits")
    else {
        return;
    };
    let paths = palisade_testdata::files_with(&root, &["yaml", "yml", "json"]);
    assert!(paths.len() > 1000, "only {} corpus files", paths.len());
    let limits = Limits::default();
    let mut largest = (0usize, String::new());
    let mut total = 0usize;
    for path in &paths {
        let display = path.display().to_string();
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let budget = NodeBudget::file(&limits);
        let source = Source::new(display.clone());
        let chunk = Chunk {
            text: &text,
            first_line: 0,
        };
        load_chunk(chunk, &source, &limits, &budget, &mut |entry| {
            if let palisade_core::Entry::Error(error) = entry {
                assert_ne!(error.kind, LoadErrorKind::Limit, "{error}");
            }
        });
        assert_eq!(budget.error(&display), None);
        total += budget.used();
        if budget.used() > largest.0 {
            largest = (budget.used(), display);
        }
    }
    eprintln!(
        "corpus: {} files, {total} nodes; largest: {} nodes in {}",
        paths.len(),
        largest.0,
        largest.1
    );
    // A margin of ten times the largest file, so that larger real manifests load too.
    assert!(largest.0 * 10 <= limits.max_file_nodes, "{largest:?}");
    assert!(total <= limits.max_run_nodes, "{total}");
}
