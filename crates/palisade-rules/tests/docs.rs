//! `docs/rules/` must match the registry. Regenerate with
//! `PALISADE_UPDATE_DOCS=1 cargo test -p palisade-rules --test docs`.

use std::path::PathBuf;

#[test]
fn rule_docs_are_fresh() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules");
    let files = palisade_rules::docs::generated_files();
    if std::env::var_os("PALISADE_UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (name, content) in &files {
            std::fs::write(dir.join(name), content).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, content) in &files {
        if std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(content.as_str()) {
            stale.push(name.clone());
        }
    }
    let expected: std::collections::BTreeSet<_> = files.iter().map(|(n, _)| n.clone()).collect();
    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") && !expected.contains(&name) {
            stale.push(format!("{name} (no such rule)"));
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is stale ({stale:?}); run PALISADE_UPDATE_DOCS=1 cargo test -p palisade-rules --test docs"
    );
}

#[test]
fn registry_is_sorted_unique_and_documented() {
    let rules = palisade_rules::registry();
    assert!(rules.len() >= 6);
    let order: Vec<&str> = rules.iter().map(|r| r.meta().id).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(order, sorted, "the registry is in ID order");
    let mut ids = std::collections::HashSet::new();
    let mut slugs = std::collections::HashSet::new();
    for r in rules {
        let m = r.meta();
        assert!(ids.insert(m.id), "duplicate id {}", m.id);
        assert!(slugs.insert(m.slug), "duplicate slug {}", m.slug);
        assert!(
            !m.summary.is_empty() && !m.rationale.is_empty() && !m.remediation.is_empty(),
            "{} lacks docs",
            m.id
        );
        assert!(!m.kinds.is_empty(), "{} reads no kind", m.id);
        assert!(
            m.slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{}",
            m.slug
        );
    }
}

#[test]
fn every_rule_file_is_named_after_its_slug_and_has_a_fixture() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for rule in palisade_rules::registry() {
        let m = rule.meta();
        let source = std::path::Path::new(m.source);
        assert!(
            root.join(source).is_file(),
            "{}: no file {}",
            m.id,
            m.source
        );
        assert_eq!(
            source.file_stem().and_then(|s| s.to_str()),
            Some(m.slug.replace('-', "_").as_str()),
            "{} is declared in {}, not in a file named after its slug",
            m.id,
            m.source
        );
        assert!(
            source.starts_with("crates/palisade-rules/src/rules"),
            "{} is declared outside palisade-rules: {}",
            m.id,
            m.source
        );
        let fixture = palisade_rules::docs::fixture_path(m.id);
        assert!(
            root.join(&fixture).is_file(),
            "{}: no fixture {fixture}",
            m.id
        );
    }
}
