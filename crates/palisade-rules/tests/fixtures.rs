//! Inline-expectation fixtures: `tests/fixtures/<RULE-ID>.yaml` holds failing and passing
//! objects for one rule. A trailing `# expect: RULE-ID` comment marks each line where a finding
//! must be reported. The test runs that rule (or the rules a `# select: A,B` header names) and
//! asserts that exactly the expected findings appear, on exactly those lines; that every fixture
//! has passing objects too; that every rule has a fixture; and that every fix makes its finding go
//! away. A `# config: {...}` line gives the configuration (for rules with settings).
//!
//! For a rule with fixes, each expectation also says what the finding's fix is:
//! `# expect: POD007 (safe)`, `(unsafe)` or `(no fix)`; the fixture must hold the kinds the
//! rule declares (both, for a rule whose fixes are safe or unsafe depending on the object), and
//! all the fixes of an object, planned together with the unsafe ones, must apply.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_core::{load_str, Limits};
use palisade_rules::fixes::{plan, violations, Outcome};
use palisade_rules::{registry, Applicability, Config, Engine};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// (line, rule) pairs the fixture expects.
fn expectations(text: &str) -> BTreeSet<(u32, String)> {
    fix_kinds(text).into_keys().collect()
}

/// (line, rule) pairs the fixture expects, each with the kind of fix it names in parentheses
/// (`safe`, `unsafe`, `no fix`), if any.
fn fix_kinds(text: &str) -> BTreeMap<(u32, String), Option<String>> {
    let mut out = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(at) = line.find("# expect:") {
            for entry in line[at + "# expect:".len()..].split(',') {
                let (rule, kind) = match entry.split_once('(') {
                    Some((rule, kind)) => (rule.trim(), Some(kind.trim_end_matches([')', ' ']))),
                    None => (entry.trim(), None),
                };
                if !rule.is_empty() {
                    out.insert((index as u32 + 1, rule.to_owned()), kind.map(str::to_owned));
                }
            }
        }
    }
    out
}

/// What a finding's fix is, as fixtures write it.
fn kind_of(fix: Option<&palisade_rules::Fix>) -> &'static str {
    match fix.map(|f| f.applicability) {
        Some(Applicability::Safe) => "safe",
        Some(Applicability::Unsafe) => "unsafe",
        None => "no fix",
    }
}

fn selection(path: &Path, text: &str) -> Vec<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("# select:"))
        .map(|s| s.split(',').map(|r| r.trim().to_owned()).collect())
        .unwrap_or_else(|| vec![path.file_stem().unwrap().to_string_lossy().into_owned()])
}

fn check_fixture(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let display = path.file_name().unwrap().to_string_lossy().into_owned();
    let loaded = load_str(&text, &display, &Limits::default());
    if !loaded.errors.is_empty() {
        return Err(format!("{display}: load errors {:?}", loaded.errors));
    }
    let select = selection(path, &text);
    let config = match text.lines().find_map(|l| l.strip_prefix("# config:")) {
        Some(yaml) => Config::parse(yaml, &display).map_err(|e| e.message)?,
        None => Config::default(),
    };
    let engine = Engine::new(&config, &select, &[]).map_err(|e| e.to_string())?;
    // The fixtures of audit-event rules are audit events: tests/event_fixtures.rs checks them.
    if (engine.rules().iter()).all(|r| matches!(r.checker(), palisade_rules::Checker::Event(_))) {
        return Ok(());
    }
    let mut found = Vec::new();
    let mut clean_objects = 0;
    for object in &loaded.objects {
        let findings = engine.check_object(object);
        if findings.is_empty() {
            clean_objects += 1;
        }
        // Every fix, planned with the others of the object and the unsafe ones, must apply,
        // keep the object valid and make its rule stop firing on this object.
        let mut fixed = object.clone();
        let fixes: Vec<_> = findings
            .iter()
            .filter_map(|f| Some((f.fix.as_ref()?, true)))
            .collect();
        let any_fix = !fixes.is_empty();
        let planned = plan(&object.value, &fixes);
        for outcome in &planned.outcomes {
            if let Outcome::Invalid(reason) = outcome {
                return Err(format!(
                    "{display}: a fix of {} is refused: {reason}",
                    object.reference()
                ));
            }
        }
        fixed.value = planned.value;
        let before = violations(&object.value);
        if let Some(new) = violations(&fixed.value)
            .into_iter()
            .find(|v| !before.contains(v))
        {
            return Err(format!(
                "{display}: fixed {} is invalid: {new}",
                object.reference()
            ));
        }
        if any_fix {
            let after: Vec<_> = engine
                .check_object(&fixed)
                .into_iter()
                .filter(|f| f.fix.is_some())
                .collect();
            if !after.is_empty() {
                return Err(format!(
                    "{display}: after applying fixes to {}, still: {:?}",
                    object.reference(),
                    after.iter().map(|f| &f.message).collect::<Vec<_>>()
                ));
            }
        }
        found.extend(findings);
    }
    if engine.has_inventory_rules() {
        found.extend(engine.check_kept(&kept_of(&engine, &loaded.objects)));
    }
    let kinds = fix_kinds(&text);
    let mut seen = BTreeSet::new();
    for f in &found {
        let rule = registry().iter().find(|r| r.meta().id == f.rule.id);
        if rule.and_then(|r| r.fix_safety()).is_none() {
            continue;
        }
        let key = (f.pos.line, f.rule.id.to_owned());
        let kind = kind_of(f.fix.as_ref());
        match kinds.get(&key) {
            Some(Some(written)) if written == kind => {
                seen.insert((f.rule.id, kind));
            }
            Some(written) => {
                return Err(format!(
                    "{display}:{}: {} has a {kind} fix, the fixture says {written:?}",
                    f.pos.line, f.rule.id
                ))
            }
            None => {}
        }
    }
    for rule in registry() {
        let (id, Some(safety)) = (rule.meta().id, rule.fix_safety()) else {
            continue;
        };
        if !select.iter().any(|s| s == id) {
            continue;
        }
        let wanted: &[&str] = match safety.applicability {
            Some(Applicability::Safe) => &["safe"],
            Some(Applicability::Unsafe) => &["unsafe"],
            None => &["safe", "unsafe"],
        };
        for kind in wanted {
            if !seen.contains(&(id, kind)) {
                return Err(format!("{display}: no finding of {id} with a {kind} fix"));
            }
        }
        if let Some(other) = seen
            .iter()
            .find(|(r, k)| *r == id && *k != "no fix" && !wanted.contains(k))
        {
            return Err(format!(
                "{display}: {id} declares {wanted:?} fixes but has a {} fix",
                other.1
            ));
        }
    }
    let actual: BTreeSet<(u32, String)> = found
        .iter()
        .map(|f| (f.pos.line, f.rule.id.to_owned()))
        .collect();
    let expected = expectations(&text);
    if actual != expected {
        let missing: Vec<_> = expected.difference(&actual).collect();
        let unexpected: Vec<_> = found
            .iter()
            .filter(|f| !expected.contains(&(f.pos.line, f.rule.id.to_owned())))
            .map(|f| format!("{}:{} {} {}", f.pos.line, f.pos.col, f.rule.id, f.message))
            .collect();
        return Err(format!(
            "{display}: missing {missing:?}, unexpected {unexpected:?}"
        ));
    }
    if expected.is_empty() {
        return Err(format!("{display}: no `# expect:` line (no failing case)"));
    }
    if clean_objects == 0 && !engine.has_inventory_rules() {
        return Err(format!("{display}: no passing object"));
    }
    Ok(())
}

#[test]
fn every_fixture_matches_its_expectations() {
    let mut paths: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        // Node rules' fixtures are files of a node, checked by `tests/node_fixtures.rs`.
        .filter(|p| !std::fs::read_to_string(p).is_ok_and(|text| text.starts_with("# node-file: ")))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|p| check_fixture(p).err())
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_rule_has_a_fixture() {
    let missing: Vec<_> = registry()
        .iter()
        .map(|r| r.meta().id)
        .filter(|id| !fixtures_dir().join(format!("{id}.yaml")).is_file())
        .collect();
    assert!(missing.is_empty(), "rules without fixtures: {missing:?}");
}

#[test]
fn expectation_parser_reads_lists() {
    let e = expectations("a: 1 # expect: POD001, YAML001\nb: 2\n");
    assert_eq!(
        e,
        BTreeSet::from([(1, "POD001".to_owned()), (1, "YAML001".to_owned())])
    );
    let k = fix_kinds("a: 1 # expect: POD007 (safe), POD002 (no fix)\n");
    assert_eq!(
        k,
        BTreeMap::from([
            ((1, "POD002".to_owned()), Some("no fix".to_owned())),
            ((1, "POD007".to_owned()), Some("safe".to_owned())),
        ])
    );
}

/// The objects as a scan keeps them for the inventory rules.
fn kept_of(engine: &Engine, objects: &[palisade_core::Object]) -> palisade_rules::Kept {
    let mut kept = palisade_rules::Kept::default();
    for object in objects {
        engine.keep(object.clone(), &mut kept);
    }
    kept
}
