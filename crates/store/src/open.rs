//! Opening a store: its directories, the database and its schema, and the cleanup after a crash (scratch files,
//! orphan blobs). Runs before the committer starts, so nothing else touches the store meanwhile; the database is
//! opened first, and its lock keeps a second process from cleaning up under a live one.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable};

use crate::blob::{is_shard_name, is_valid_id};
use crate::tables::{BUCKET_UPLOADS, BUCKETS, BlobRef, OBJECTS, PARTS, SCHEMA, SCHEMA_KEY, UPLOADS, decode};
use crate::{SCHEMA_VERSION, StoreError};

/// Opens (or creates) the database and checks its schema version.
pub(crate) fn open_db(path: &Path) -> Result<Database, StoreError> {
    let db = Database::create(path).map_err(|e| {
        StoreError::Db(format!(
            "cannot open `{}` ({e}): is another node running on this data directory?",
            path.display()
        ))
    })?;
    let txn = db.begin_write()?;
    {
        txn.open_table(BUCKETS)?;
        txn.open_table(OBJECTS)?;
        txn.open_table(UPLOADS)?;
        txn.open_table(PARTS)?;
        txn.open_table(BUCKET_UPLOADS)?;
        let mut schema = txn.open_table(SCHEMA)?;
        let version = schema.get(SCHEMA_KEY)?.map(|v| v.value());
        match version {
            None => {
                schema.insert(SCHEMA_KEY, SCHEMA_VERSION)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(other) => {
                return Err(StoreError::Corrupt(format!(
                    "`{}` has schema version {other} and this build reads version {SCHEMA_VERSION}: \
                     run the build that wrote it",
                    path.display()
                )));
            }
        }
    }
    txn.commit()?;
    Ok(db)
}

/// Deletes everything in `tmp/`; returns how many entries there were.
pub(crate) fn empty_tmp(tmp: &Path) -> Result<u64, StoreError> {
    let context = || format!("cannot empty `{}`", tmp.display());
    let mut removed = 0;
    for entry in fs::read_dir(tmp).map_err(StoreError::io(context()))? {
        let entry = entry.map_err(StoreError::io(context()))?;
        let path = entry.path();
        let is_dir = entry.file_type().map_err(StoreError::io(context()))?.is_dir();
        if is_dir { fs::remove_dir_all(&path) } else { fs::remove_file(&path) }
            .map_err(StoreError::io(format!("cannot delete `{}`", path.display())))?;
        removed += 1;
    }
    Ok(removed)
}

/// Every blob an object or a part references: one pass over both tables.
pub(crate) fn referenced_blobs(db: &Database) -> Result<HashSet<String>, StoreError> {
    let txn = db.begin_read()?;
    let mut referenced = HashSet::new();
    for (table, what) in [(txn.open_table(OBJECTS)?, "object"), (txn.open_table(PARTS)?, "part")] {
        for entry in table.iter()? {
            let (_, v) = entry?;
            referenced.insert(decode::<BlobRef>(what, v.value())?.blob);
        }
    }
    Ok(referenced)
}

/// Deletes the blob files nothing references; counts the entries of `blobs/` the store did not make and leaves
/// them. Returns (orphans removed, foreign entries).
pub(crate) fn remove_orphans(blobs: &Path, referenced: &HashSet<String>) -> Result<(u64, u64), StoreError> {
    let context = |dir: &Path| format!("cannot list `{}`", dir.display());
    let (mut orphans, mut foreign) = (0, 0);
    for shard in fs::read_dir(blobs).map_err(StoreError::io(context(blobs)))? {
        let shard = shard.map_err(StoreError::io(context(blobs)))?;
        let shard_name = shard.file_name();
        let is_dir = shard.file_type().map_err(StoreError::io(context(blobs)))?.is_dir();
        let Some(shard_name) = shard_name.to_str().filter(|n| is_dir && is_shard_name(n)) else {
            foreign += 1;
            continue;
        };
        let dir = shard.path();
        for file in fs::read_dir(&dir).map_err(StoreError::io(context(&dir)))? {
            let file = file.map_err(StoreError::io(context(&dir)))?;
            let name = file.file_name();
            let is_file = file.file_type().map_err(StoreError::io(context(&dir)))?.is_file();
            let Some(id) = name.to_str().filter(|n| is_file && is_valid_id(n) && n.starts_with(shard_name))
            else {
                foreign += 1;
                continue;
            };
            if !referenced.contains(id) {
                let path = file.path();
                fs::remove_file(&path)
                    .map_err(StoreError::io(format!("cannot delete orphan blob `{}`", path.display())))?;
                orphans += 1;
            }
        }
    }
    Ok((orphans, foreign))
}
