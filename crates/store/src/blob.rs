//! Blob files: their names, where they live, the writer that makes them, and what makes them durable.
//! A blob is opaque bytes (an encrypted container made by the node): nothing here reads or checks its content.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{BlobId, StoreError};

/// Length of a blob id in hex digits. Do not change: it is every blob's file name.
pub(crate) const ID_LEN: usize = 32;
/// Length of a shard directory name: the first hex digits of the id. Do not change: it is where blobs are.
pub(crate) const SHARD_LEN: usize = 2;
/// Buffer of a writer: large enough that small writes do not each become a system call.
const WRITE_BUFFER: usize = 64 * 1024;

/// A fresh random id: 128 bits from the system generator as 32 lowercase hex digits.
pub(crate) fn new_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; ID_LEN / 2];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| StoreError::Io {
        context: "cannot draw a random id".into(),
        source: io::Error::other("the system random generator failed"),
    })?;
    Ok(hex::encode(bytes))
}

/// Whether `id` is a name this store makes: exactly 32 lowercase hex digits (so it can be a path component).
pub(crate) fn is_valid_id(id: &str) -> bool {
    id.len() == ID_LEN && is_lower_hex(id)
}

/// Whether `name` is a shard directory name: 2 lowercase hex digits.
pub(crate) fn is_shard_name(name: &str) -> bool {
    name.len() == SHARD_LEN && is_lower_hex(name)
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Makes the entries of directory `path` durable (fsync on the directory).
pub(crate) fn sync_dir(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(StoreError::io(format!("cannot make the entries of `{}` durable", path.display())))
}

/// The ids of blobs written and fsynced by a [`BlobWriter`] and not yet referenced by a commit. The committer
/// trusts their data is durable; any other id it is asked to reference gets its own fsync first. A failed write
/// deletes its blob only when it is still here, i.e. nothing can reference it.
#[derive(Debug, Default)]
pub(crate) struct Fresh(Mutex<HashSet<BlobId>>);

impl Fresh {
    pub(crate) fn insert(&self, id: BlobId) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).insert(id);
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).contains(id)
    }

    pub(crate) fn remove(&self, id: &str) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).remove(id)
    }
}

/// The `blobs/` directory.
#[derive(Debug)]
pub(crate) struct Blobs {
    dir: PathBuf,
    pub(crate) fresh: Arc<Fresh>,
}

impl Blobs {
    pub(crate) fn new(dir: PathBuf) -> Blobs {
        Blobs { dir, fresh: Arc::default() }
    }

    /// The shard directory of `id`. Checks the id: never builds a path from unchecked input.
    pub(crate) fn shard_dir(&self, id: &str) -> Result<PathBuf, StoreError> {
        match id.get(..SHARD_LEN) {
            Some(shard) if is_valid_id(id) => Ok(self.dir.join(shard)),
            _ => Err(bad_id(id)),
        }
    }

    /// The file of `id`. Checks the id: never builds a path from unchecked input.
    pub(crate) fn path(&self, id: &str) -> Result<PathBuf, StoreError> {
        Ok(self.shard_dir(id)?.join(id))
    }

    pub(crate) fn open(&self, id: &str) -> Result<File, StoreError> {
        let path = self.path(id)?;
        File::open(&path).map_err(StoreError::io(format!("cannot open blob `{id}`")))
    }

    /// Makes a blob that was not written by a [`BlobWriter`] of this store durable (its data; its directory entry
    /// is the committer's job).
    pub(crate) fn sync_blob(&self, id: &str) -> Result<(), StoreError> {
        let path = self.path(id)?;
        File::open(&path).and_then(|f| f.sync_all()).map_err(StoreError::io(format!(
            "cannot make blob `{id}` durable (was it written and finished?)"
        )))
    }

    /// Deletes a blob, best effort: a blob left behind is an orphan that the next open removes.
    pub(crate) fn remove(&self, id: &str) {
        if let Ok(path) = self.path(id) {
            let _ = fs::remove_file(path);
        }
    }

    pub(crate) fn writer(&self) -> Result<BlobWriter, StoreError> {
        // A collision of 128 random bits means a broken generator; a few tries then give up.
        for _ in 0..3 {
            let id = new_id()?;
            let shard = self.shard_dir(&id)?;
            let path = shard.join(&id);
            let file = match create_new(&path) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // The shard does not exist yet: create it and make its entry in `blobs/` durable now, once,
                    // so that the committer only has to fsync the shard itself.
                    fs::create_dir_all(&shard)
                        .map_err(StoreError::io(format!("cannot create `{}`", shard.display())))?;
                    sync_dir(&self.dir)?;
                    create_new(&path)
                }
                other => other,
            };
            match file {
                Ok(file) => {
                    return Ok(BlobWriter {
                        file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
                        path,
                        id,
                        fresh: Arc::clone(&self.fresh),
                        finished: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(StoreError::io(format!("cannot create blob file `{}`", path.display()))(e));
                }
            }
        }
        Err(StoreError::Io {
            context: "cannot find an unused blob id".into(),
            source: io::Error::other("three random ids in a row were taken: the random generator is broken"),
        })
    }
}

fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

fn bad_id(id: &str) -> StoreError {
    let shown: String = id.chars().take(64).collect();
    StoreError::Corrupt(format!(
        "blob id `{shown}` is not 32 lowercase hex digits; ids come from stored records only"
    ))
}

/// Writes one new blob. Call [`BlobWriter::finish`] to make it durable and get its id; then reference it from a
/// commit (`put_object`, `put_part`, `complete_upload`). Dropped unfinished, it deletes its file.
#[derive(Debug)]
pub struct BlobWriter {
    file: Option<BufWriter<File>>,
    path: PathBuf,
    id: BlobId,
    fresh: Arc<Fresh>,
    finished: bool,
}

impl BlobWriter {
    /// The id the blob will have.
    pub fn id(&self) -> &BlobId {
        &self.id
    }

    /// Flushes and fsyncs the file and returns its id. The blob is referenced by nothing yet: until a commit
    /// references it, it is an orphan that the next open deletes.
    ///
    /// # Errors
    /// [`StoreError::Io`] when writing or syncing fails; the file is then deleted.
    pub fn finish(mut self) -> Result<BlobId, StoreError> {
        let context = || format!("cannot write blob `{}`", self.id);
        let file = self.file.take().ok_or_else(|| StoreError::Io {
            context: context(),
            source: io::Error::other("the writer is closed"),
        })?;
        let file =
            file.into_inner().map_err(|e| StoreError::Io { context: context(), source: e.into_error() })?;
        file.sync_all().map_err(|source| StoreError::Io { context: context(), source })?;
        self.fresh.insert(self.id.clone());
        self.finished = true;
        Ok(self.id.clone())
    }

    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file.as_mut().ok_or_else(|| io::Error::other("the blob writer is closed"))
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file()?.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file()?.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.finished {
            // Close without flushing the buffer: the bytes are about to be deleted anyway.
            drop(self.file.take().map(BufWriter::into_parts));
            let _ = fs::remove_file(&self.path);
        }
    }
}
