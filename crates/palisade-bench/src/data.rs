//! Where the benchmarks find the shared reference data, and the manifest files in it.

use std::path::{Path, PathBuf};

/// The real-world corpus: `$PALISADE_CORPUS`, or `shared/corpus` beside the workspace
/// checkout. `None` when it is not there (benchmarks on it are then skipped).
pub fn corpus_dir() -> Option<PathBuf> {
    shared("PALISADE_CORPUS", "corpus")
}

/// The Pod Security Admission fixtures: `$PALISADE_PSS_FIXTURES`, or
/// `shared/conformance/pss`.
pub fn pss_dir() -> Option<PathBuf> {
    shared("PALISADE_PSS_FIXTURES", "conformance/pss")
}

fn shared(var: &str, relative: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os(var) {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared")
            .join(relative),
    };
    dir.is_dir().then_some(dir)
}

/// Every `.yaml`, `.yml` and `.json` file under `dir`, sorted, skipping hidden and `_`-prefixed
/// folders (the corpus keeps its build tools in `_tools`).
pub fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        if path.is_dir() {
            walk(&path, files);
        } else if ["yaml", "yml", "json"]
            .iter()
            .any(|ext| path.extension().is_some_and(|e| e == *ext))
        {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_files_finds_yaml_and_json_only_outside_hidden_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for path in [
            "a.yaml",
            "b/c.yml",
            "b/d.json",
            "b/e.txt",
            "_tools/f.yaml",
            ".git/g.yaml",
        ] {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x: 1\n").unwrap();
        }
        let found: Vec<_> = manifest_files(root)
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(found, ["a.yaml", "b/c.yml", "b/d.json"]);
    }
}
