//! `replace_file`: a rewritten file is complete or untouched, never half-written.

use std::io::{self, Write};
use std::path::Path;

use palisade_fix::{replace_file, replace_file_with};

const OLD: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: build\n";
const NEW: &str =
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: build\nautomountServiceAccountToken: false\n";

/// The names in a directory, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_write_failing_midway_leaves_the_original_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sa.yaml");
    std::fs::write(&path, OLD).unwrap();
    let err = replace_file_with(&path, NEW.as_bytes(), |file, bytes| {
        file.write_all(&bytes[..bytes.len() / 2])?;
        file.flush()?;
        Err(io::Error::from_raw_os_error(28))
    })
    .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(28), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), OLD.as_bytes());
    assert_eq!(names(dir.path()), ["sa.yaml"]);
}

#[test]
fn a_successful_write_replaces_the_contents_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sa.yaml");
    std::fs::write(&path, OLD).unwrap();
    replace_file(&path, NEW.as_bytes()).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), NEW);
    assert_eq!(names(dir.path()), ["sa.yaml"]);
}

#[cfg(unix)]
#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o600, 0o640, 0o755] {
        let path = dir.path().join(format!("{mode:o}.yaml"));
        std::fs::write(&path, OLD).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        replace_file(&path, NEW.as_bytes()).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "{mode:o}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), NEW);
    }
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_stays_and_its_target_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("target.yaml");
    let link = dir.path().join("link.yaml");
    std::fs::write(&target, OLD).unwrap();
    std::os::unix::fs::symlink("target.yaml", &link).unwrap();
    replace_file(&link, NEW.as_bytes()).unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), NEW);
    assert_eq!(names(dir.path()), ["link.yaml", "target.yaml"]);
}

#[test]
fn only_regular_files_are_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let err = replace_file(dir.path(), NEW.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let missing = dir.path().join("missing.yaml");
    let err = replace_file(&missing, NEW.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    assert!(!missing.exists());
}

#[cfg(unix)]
#[test]
fn a_file_the_process_may_not_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sa.yaml");
    std::fs::write(&path, OLD).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    if std::fs::File::options().write(true).open(&path).is_ok() {
        eprintln!(
            "SKIPPED a_file_the_process_may_not_write_is_refused: \
             this process may write read-only files (root)"
        );
        return;
    }
    let err = replace_file(&path, NEW.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::PermissionDenied, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), OLD.as_bytes());
    assert_eq!(names(dir.path()), ["sa.yaml"]);
}
