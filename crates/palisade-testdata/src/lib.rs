//! Where tests find `../shared` (the upstream conformance data and the real-world corpus,
//! beside the checkout; `PALISADE_SHARED` overrides the place).
//!
//! A plain clone has no `../shared`: the tests that need it then say loudly that they were
//! skipped and pass, so `cargo test` works anywhere. With `CI` set, a missing folder is a
//! failure instead, so a CI run can never pass without checking the data.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The folder `relative` under `../shared` (for example `conformance/pss` or `corpus`), or
/// `None` after printing why the calling test checked nothing. Panics when it is missing and
/// the `CI` variable is set.
pub fn shared(relative: &str, test: &str) -> Option<PathBuf> {
    let root = match std::env::var_os("PALISADE_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    let dir = root.join(relative);
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!(
        "SKIPPED {test}: {} is missing, so nothing was checked (see the README on ../shared)",
        dir.display()
    );
    assert!(std::env::var_os("CI").is_none(), "{message}; CI needs it");
    eprintln!("{message}");
    None
}

/// Whether this process may give files to other users (the node tests set up files owned by
/// `etcd` and others, as on a real node: only root can). When it may not, prints why the calling
/// test checked nothing and returns false; under `CI` that is a failure instead.
pub fn can_give_files_away(test: &str) -> bool {
    // One probe file per call: tests of one process run on several threads at once.
    static PROBES: AtomicUsize = AtomicUsize::new(0);
    let probe = std::env::temp_dir().join(format!(
        "palisade-chown-probe-{}-{}",
        std::process::id(),
        PROBES.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&probe, b"").expect("a probe file in the temporary directory");
    let given = std::os::unix::fs::chown(&probe, Some(64_990), Some(64_990));
    let _ = std::fs::remove_file(&probe);
    match given {
        Ok(()) => return true,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {}
        Err(e) => panic!("giving {} away: {e}", probe.display()),
    }
    let message = format!("SKIPPED {test}: it must run as root, to give files to other users");
    assert!(std::env::var_os("CI").is_none(), "{message}; CI needs it");
    eprintln!("{message}");
    false
}

/// The files under `dir`, in every subfolder, whose extension is one of `extensions`
/// (`["yaml", "yml", "json"]` for every manifest of the corpus), sorted.
pub fn files_with(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, extensions: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, extensions, out);
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, extensions, &mut out);
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_none_outside_ci_and_a_failure_in_it() {
        let name = "no-such-folder-of-shared";
        if std::env::var_os("CI").is_some() {
            let caught = std::panic::catch_unwind(|| shared(name, "this test"));
            assert!(caught.is_err());
        } else {
            assert_eq!(shared(name, "this test"), None);
        }
    }
}
