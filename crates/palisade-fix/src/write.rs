//! Rewriting a file so that it is never left half-written: the new contents go to a temporary
//! file in the same directory, which is synced and then renamed over the original.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// Replaces the contents of the regular file at `path` with `contents`. On any error the file
/// is untouched and the temporary file is removed.
pub fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    replace_file_with(path, contents, |file, bytes| file.write_all(bytes))
}

/// [`replace_file`], with `write` writing the bytes to the temporary file (so that a test can
/// make the write fail part of the way through).
///
/// A symbolic link is followed and its target replaced. The new file gets the permissions of
/// the original and, when the process may set them, its owner and group.
pub fn replace_file_with<W>(path: &Path, contents: &[u8], write: W) -> io::Result<()>
where
    W: FnOnce(&mut File, &[u8]) -> io::Result<()>,
{
    let target = std::fs::canonicalize(path)?;
    let metadata = std::fs::metadata(&target)?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    // Renaming needs only the directory to be writable: keep a file the process may not
    // write (read-only, or someone else's) as it is, as an in-place write would.
    File::options().write(true).open(&target)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".palisade-tmp")
        .tempfile_in(dir)?;
    write(temp.as_file_mut(), contents)?;
    temp.as_file_mut().flush()?;
    // The owner first: changing it may clear the set-user-ID and set-group-ID bits.
    keep_owner(temp.as_file(), &metadata);
    temp.as_file().set_permissions(metadata.permissions())?;
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|err| err.error)?;
    // The new contents are complete either way; syncing the directory makes the rename
    // itself survive a crash, where the file system supports it.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Gives the file the owner and group of the original. Only root may give a file away; anyone
/// else rewriting a file they may write but do not own ends up owning it, as with an editor
/// that saves by renaming.
#[cfg(unix)]
fn keep_owner(file: &File, original: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let Ok(now) = file.metadata() else { return };
    if (now.uid(), now.gid()) != (original.uid(), original.gid()) {
        let _ = std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_: &File, _: &std::fs::Metadata) {}
