//! Durable file operations for the custody folder: atomic writes (temporary name, fsync, rename, fsync the
//! folder), the owner-only permission check, and overwrite-then-unlink for shredding.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::CustodyError;

/// Permission bits of every custody file: owner read/write only.
pub(crate) const SECRET_MODE: u32 = 0o600;
/// Permission bits of the custody folder when this crate creates it.
const DIR_MODE: u32 = 0o700;

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` atomically and durably with mode 0600.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CustodyError> {
    let fail = |e: io::Error| CustodyError::storage(path, format!("cannot write: {e}"));
    let dir = path.parent().ok_or_else(|| CustodyError::storage(path, "has no parent folder"))?;
    let name = path.file_name().ok_or_else(|| CustodyError::storage(path, "has no file name"))?;
    let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(SECRET_MODE).open(&tmp)?;
        file.set_permissions(fs::Permissions::from_mode(SECRET_MODE))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

/// Creates the custody folder (mode 0700) when it does not exist; an existing folder is left as it is.
pub(crate) fn ensure_dir(dir: &Path) -> Result<(), CustodyError> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| CustodyError::storage(dir, format!("cannot create the key folder: {e}")))
}

/// Flushes a folder's entries (new names, renames, unlinks) to disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Reads a custody file after checking that only its owner can read or write it.
pub(crate) fn read_private(path: &Path) -> Result<Vec<u8>, CustodyError> {
    let meta = fs::metadata(path).map_err(|e| CustodyError::storage(path, format!("cannot read: {e}")))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CustodyError::storage(
            path,
            format!(
                "holds key material but has mode {mode:04o} (group or others have access): run `chmod 600 {}`",
                path.display()
            ),
        ));
    }
    fs::read(path).map_err(|e| CustodyError::storage(path, format!("cannot read: {e}")))
}

/// Overwrites a file with zeros, flushes it, unlinks it and flushes the folder. On flash storage and
/// copy-on-write file systems the overwrite may land elsewhere: what makes shredding final is that the file only
/// ever held KEK-encrypted bytes.
pub(crate) fn shred_file(path: &Path) -> io::Result<()> {
    let len = fs::metadata(path)?.len();
    let mut file = OpenOptions::new().write(true).open(path)?;
    let zeros = [0u8; 4096];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left.min(4096)).unwrap_or(4096);
        file.write_all(zeros.get(..n).unwrap_or(&zeros))?;
        left = left.saturating_sub(4096);
    }
    file.sync_all()?;
    drop(file);
    fs::remove_file(path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_sets_mode_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn shred_removes_the_file_and_wide_modes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        write_atomic(&p, &[7u8; 5000]).unwrap();
        assert_eq!(read_private(&p).unwrap().len(), 5000);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let e = read_private(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        shred_file(&p).unwrap();
        assert!(!p.exists());
    }
}
