//! Fixtures of the node rules (`tests/fixtures/<ID>.yaml` with a `# node-file:` header): each
//! one is a file of a node, written over a copy of the hardened control plane node of
//! `palisade-node` (where every rule is quiet), and the findings of its rule must be exactly the
//! fixture's expectations. Headers:
//!
//! - `# node-file: PATH`: where the fixture's text is written, under the node's root;
//! - `# chmod: PATH MODE` and `# chown: PATH USER` (`root`, `kube` or `etcd`): file modes and
//!   owners, set by the test (git keeps neither);
//! - `# expect: ID` at the end of a line: a finding on that line of the node file;
//! - `# expect-at: PATH ID`: a finding about the file at PATH as a whole (its mode or owner).

use std::collections::BTreeSet;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use palisade_node::{audit, Options};
use palisade_rules::{registry, Checker, Config, Engine};

const KUBE: u32 = 64_991;
const ETCD: u32 = 64_990;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The hardened node of `palisade-node`'s tests, with its modes and owners.
fn hardened() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy(
        &manifest_dir().join("../palisade-node/tests/nodes/hardened"),
        root,
    );
    let uid = std::fs::metadata(root).unwrap().uid();
    let modes = std::fs::read_to_string(root.join("modes.txt")).unwrap();
    for line in modes.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split(' ').collect();
        chmod(root, fields[0], fields[1]);
        if let Some(user) = fields.get(2) {
            chown(root, fields[0], user, uid);
        }
    }
    std::fs::write(
        root.join("etc/passwd"),
        format!("root:x:{uid}:{uid}::/root:/bin/sh\nkube:x:{KUBE}:{KUBE}::/:/sbin/nologin\netcd:x:{ETCD}:{ETCD}::/:/sbin/nologin\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/group"),
        format!("root:x:{uid}:\nkube:x:{KUBE}:\netcd:x:{ETCD}:\n"),
    )
    .unwrap();
    dir
}

fn chmod(root: &Path, path: &str, mode: &str) {
    let mode = u32::from_str_radix(mode, 8).unwrap();
    std::fs::set_permissions(root.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(root: &Path, path: &str, user: &str, root_uid: u32) {
    let id = match user {
        "kube" => KUBE,
        "etcd" => ETCD,
        _ => root_uid,
    };
    std::os::unix::fs::chown(root.join(path), Some(id), Some(id))
        .expect("the node fixtures run as root, to give files to other users");
}

fn is_node_rule(id: &str) -> bool {
    registry()
        .iter()
        .any(|r| r.meta().id == id && matches!(r.checker(), Checker::Node(_)))
}

/// Runs one node fixture; `Err` says what differs.
fn check(id: &str, text: &str) -> Result<(), String> {
    let header = |name: &str| -> Vec<String> {
        let prefix = format!("# {name}: ");
        text.lines()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(str::to_owned)
            .collect()
    };
    let node_file = header("node-file")
        .into_iter()
        .next()
        .ok_or_else(|| format!("{id}: no `# node-file:` header"))?;
    let dir = hardened();
    let root = dir.path();
    let uid = std::fs::metadata(root).unwrap().uid();
    std::fs::create_dir_all(root.join(&node_file).parent().unwrap()).unwrap();
    std::fs::write(root.join(&node_file), text).unwrap();
    for line in header("chmod") {
        let (path, mode) = line.split_once(' ').unwrap();
        chmod(root, path, mode);
    }
    for line in header("chown") {
        let (path, user) = line.split_once(' ').unwrap();
        chown(root, path, user, uid);
    }
    let mut expected = BTreeSet::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(at) = line.find("# expect: ") {
            let rule = line[at + "# expect: ".len()..].trim().to_owned();
            expected.insert((node_file.clone(), index as u32 + 1, rule));
        }
    }
    for line in header("expect-at") {
        let (path, rule) = line.split_once(' ').unwrap();
        expected.insert((path.to_owned(), 0, rule.to_owned()));
    }
    if expected.is_empty() {
        return Err(format!("{id}: no expectation"));
    }
    let engine = Engine::new(&Config::default(), &[id.to_owned()], &[]).unwrap();
    let options = Options {
        processes: false,
        ..Options::new(root)
    };
    let prefix = format!("{}/", root.display());
    let found: BTreeSet<(String, u32, String)> = engine
        .check_node(&audit(&options))
        .into_iter()
        .map(|f| {
            let file = f.file.strip_prefix(&prefix).unwrap_or(&f.file).to_owned();
            (file, f.pos.line, f.rule.id.to_owned())
        })
        .collect();
    if found != expected {
        return Err(format!("{id}: expected {expected:?}, found {found:?}"));
    }
    Ok(())
}

#[test]
fn every_node_fixture_matches_its_expectations() {
    if !palisade_testdata::can_give_files_away("every_node_fixture_matches_its_expectations") {
        return;
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in registry() {
        let id = rule.meta().id;
        if !is_node_rule(id) {
            continue;
        }
        let path = manifest_dir().join(format!("tests/fixtures/{id}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        if let Err(message) = check(id, &text) {
            failures.push(message);
        }
        checked += 1;
    }
    assert!(checked >= 92, "{checked} node fixtures");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The hardened node, where the fixtures are written, is quiet for every node rule: each
/// fixture's findings come from its own change.
#[test]
fn the_hardened_node_has_no_node_finding() {
    if !palisade_testdata::can_give_files_away("the_hardened_node_has_no_node_finding") {
        return;
    }
    let dir = hardened();
    let options = Options {
        processes: false,
        ..Options::new(dir.path())
    };
    let findings = Engine::default().check_node(&audit(&options));
    let listed: Vec<String> = findings
        .iter()
        .map(|f| format!("{}:{} {} {}", f.file, f.pos, f.rule.id, f.message))
        .collect();
    assert!(listed.is_empty(), "{listed:#?}");
}
