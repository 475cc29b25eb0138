//! Redoubt's embedded storage for the object service: a metadata index in one redb file and the stored bytes as
//! blob files, laid out under one directory `D`:
//!
//! ```text
//! D/meta.redb                  buckets, objects, multipart uploads and parts (JSON records, schema version 1)
//! D/blobs/<2 hex>/<32 hex id>  one file per stored object or uploaded part (256 shards, created on first use)
//! D/tmp/                       scratch, emptied at every open
//! ```
//!
//! It owns: the index and its durability (a write returns `Ok` only once its commit is durable; writes from many
//! threads share one commit: the group committer in `commit.rs`); the blob files and their durability; and the cleanup
//! after a crash (at open: `tmp/` emptied, blobs no record references deleted; see [`OpenReport`]).
//!
//! It must never: interpret a blob (they are encrypted ZTDF containers made by the node: bytes in, bytes out),
//! hold plaintext (it only ever sees what the node already encrypted), or make a record reference a blob whose
//! data or directory entry may not be durable. It owns no runtime: every call is synchronous and blocking (the node
//! calls it from `spawn_blocking`), and a `Store` is `Send + Sync`, shared through an `Arc`.
//!
//! A blob is deleted only after the commit that stopped referencing it is durable; a reader that already opened
//! it keeps reading it, a reader that has the record but opens the blob too late gets an I/O "not found".

mod blob;
mod commit;
mod error;
mod list;
mod meta;
mod open;
mod ops;
mod tables;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use redb::{ReadableDatabase, ReadableTable};

pub use blob::BlobWriter;
pub use error::StoreError;
pub use list::MAX_KEYS;
pub use meta::{
    BlobId, BucketMeta, CommitStats, ListPage, ObjectMeta, OpenReport, PartMeta, Precondition, UploadMeta,
};

use crate::blob::{Blobs, sync_dir};
use crate::commit::{Committer, Shared, Stats};
use crate::tables::{
    BUCKET_UPLOADS, BUCKETS, OBJECTS, PARTS, UPLOADS, bucket_prefix, decode, object_key, part_key,
};
use crate::tables::{part_number, prefix_end};

/// Version of the on-disk layout (table names, key encodings, record fields). Do not change without a migration:
/// a store written with another version refuses to open.
pub const SCHEMA_VERSION: u64 = 1;
/// The highest part number of a multipart upload (S3's limit).
pub const MAX_PART_NUMBER: u32 = 10_000;

/// File name of the index inside the store directory. Do not change: existing stores keep it there.
const META_FILE: &str = "meta.redb";
/// Directory of the blobs. Do not change.
const BLOBS_DIR: &str = "blobs";
/// Scratch directory. Do not change.
const TMP_DIR: &str = "tmp";

/// Tuning knobs of [`Store::open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// The most write operations one transaction applies (default 256). 1 turns group commit off (for
    /// measuring it).
    pub max_batch: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_batch: commit::DEFAULT_MAX_BATCH }
    }
}

/// The store. Reads run on the caller's thread; writes are applied by one commit thread, in batches.
#[derive(Debug)]
pub struct Store {
    shared: Arc<Shared>,
    // Dropped after `shared`: joins the commit thread, which holds the last other reference to the database.
    committer: Committer,
    report: OpenReport,
    tmp: PathBuf,
}

impl Store {
    /// Opens the store in `dir`, creating it if needed: empties `tmp/` and deletes orphan blobs (see
    /// [`Store::open_report`]).
    ///
    /// # Errors
    /// [`StoreError::Io`] when the directories cannot be made or cleaned; [`StoreError::Db`] when the index cannot
    /// be opened (e.g. another process has it open); [`StoreError::Corrupt`] when it has another schema version or
    /// a record that does not parse.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, StoreOptions::default())
    }

    /// [`Store::open`] with options.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        let existed = dir.is_dir();
        let blobs_dir = dir.join(BLOBS_DIR);
        let tmp = dir.join(TMP_DIR);
        for d in [dir, &blobs_dir, &tmp] {
            fs::create_dir_all(d).map_err(StoreError::io(format!("cannot create `{}`", d.display())))?;
        }
        let db = open::open_db(&dir.join(META_FILE))?;
        // The entries of `blobs/`, `tmp/` and `meta.redb` (redb fsyncs the file, not its directory entry: without
        // this, a crash could lose the whole index of a new store), and of `dir` itself when it is new.
        sync_dir(dir)?;
        if !existed && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        let tmp_removed = open::empty_tmp(&tmp)?;
        let referenced = open::referenced_blobs(&db)?;
        let (orphans_removed, foreign_files) = open::remove_orphans(&blobs_dir, &referenced)?;
        let shared = Arc::new(Shared { db, blobs: Blobs::new(blobs_dir), stats: Stats::default() });
        let committer = Committer::start(Arc::clone(&shared), options.max_batch)?;
        Ok(Store {
            shared,
            committer,
            report: OpenReport { orphans_removed, tmp_removed, foreign_files },
            tmp,
        })
    }

    /// What [`Store::open`] cleaned up.
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// How many write transactions the committer has committed and how many operations they applied, since
    /// open (their ratio is the mean batch size).
    pub fn commit_stats(&self) -> CommitStats {
        CommitStats {
            transactions: self.shared.stats.transactions.load(Ordering::Relaxed),
            operations: self.shared.stats.operations.load(Ordering::Relaxed),
        }
    }

    /// The scratch directory (`D/tmp`): emptied at every open, never fsynced, never referenced.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    // ---- buckets

    /// Creates a bucket; durable on return.
    ///
    /// # Errors
    /// [`StoreError::BucketExists`]; [`StoreError::InvalidBucketName`] when `name` holds a NUL.
    pub fn create_bucket(&self, name: &str, meta: BucketMeta) -> Result<(), StoreError> {
        if name.contains('\0') {
            return Err(StoreError::InvalidBucketName { bucket: name.into() });
        }
        let name = name.to_owned();
        self.committer.submit(Vec::new(), move |tx| ops::create_bucket(tx, &name, &meta))
    }

    /// A bucket's record.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`].
    pub fn bucket(&self, name: &str) -> Result<BucketMeta, StoreError> {
        let txn = self.shared.db.begin_read()?;
        let buckets = txn.open_table(BUCKETS)?;
        match buckets.get(name)? {
            Some(v) => decode("bucket", v.value()),
            None => Err(StoreError::NoSuchBucket { bucket: name.into() }),
        }
    }

    /// Every bucket, sorted by name.
    ///
    /// # Errors
    /// [`StoreError::Db`], [`StoreError::Corrupt`].
    pub fn list_buckets(&self) -> Result<Vec<(String, BucketMeta)>, StoreError> {
        let txn = self.shared.db.begin_read()?;
        let buckets = txn.open_table(BUCKETS)?;
        let mut out = Vec::new();
        for entry in buckets.iter()? {
            let (k, v) = entry?;
            out.push((k.value().to_owned(), decode("bucket", v.value())?));
        }
        Ok(out)
    }

    /// Deletes an empty bucket; durable on return.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`]; [`StoreError::BucketNotEmpty`] when it holds objects or uploads in progress.
    pub fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.committer.submit(Vec::new(), move |tx| ops::delete_bucket(tx, &name))
    }

    // ---- blobs

    /// A writer for a new blob. See [`BlobWriter::finish`].
    ///
    /// # Errors
    /// [`StoreError::Io`] when the file cannot be created.
    pub fn blob_writer(&self) -> Result<BlobWriter, StoreError> {
        self.shared.blobs.writer()
    }

    /// Opens a blob for reading.
    ///
    /// # Errors
    /// [`StoreError::Corrupt`] when `id` is not 32 lowercase hex digits (no path is built from it);
    /// [`StoreError::Io`] when the file cannot be opened (e.g. it was deleted by a later write).
    pub fn open_blob(&self, id: &BlobId) -> Result<fs::File, StoreError> {
        self.shared.blobs.open(id)
    }

    /// Deletes a finished blob that was never committed (e.g. the request failed before its `put_object`).
    /// Does nothing for a blob a commit references or is about to reference: only a blob finished by this store
    /// and never referenced is deleted.
    pub fn discard_blob(&self, id: &BlobId) {
        if self.shared.blobs.fresh.remove(id) {
            self.shared.blobs.remove(id);
        }
    }

    // ---- objects

    /// Stores an object record pointing at a finished blob; durable on return. Returns the replaced record; its
    /// blob is deleted after the commit. When the put is refused (no bucket, precondition), the new blob is
    /// deleted, as nothing references it.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`]; [`StoreError::PreconditionFailed`]; [`StoreError::NoSuchKey`] for
    /// [`Precondition::IfMatch`] on a missing key.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        pre: Precondition,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.committer
            .submit(vec![meta.blob.clone()], move |tx| ops::put_object(tx, &bucket, &key, &meta, &pre))
    }

    /// An object's record.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`], [`StoreError::NoSuchKey`].
    pub fn object(&self, bucket: &str, key: &str) -> Result<ObjectMeta, StoreError> {
        let txn = self.shared.db.begin_read()?;
        require_bucket(&txn, bucket)?;
        let objects = txn.open_table(OBJECTS)?;
        match objects.get(object_key(bucket, key).as_slice())? {
            Some(v) => decode("object", v.value()),
            None => Err(StoreError::NoSuchKey { bucket: bucket.into(), key: key.into() }),
        }
    }

    /// Deletes an object; durable on return. `Ok(None)` when there was none (S3 semantics). Its blob is deleted
    /// after the commit.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`].
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.delete_objects(bucket, &[key.to_owned()])?
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(StoreError::Corrupt("a delete of one key returned no result".into())))
    }

    /// Deletes several objects in one transaction; durable on return. One result per key, in order.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`] for the whole call; per key, [`StoreError::Corrupt`] for a record that does
    /// not parse (left in place).
    pub fn delete_objects(
        &self,
        bucket: &str,
        keys: &[String],
    ) -> Result<Vec<Result<Option<ObjectMeta>, StoreError>>, StoreError> {
        let (bucket, keys) = (bucket.to_owned(), keys.to_vec());
        self.committer.submit(Vec::new(), move |tx| ops::delete_objects(tx, &bucket, &keys))
    }

    /// One page of ListObjectsV2: keys under `prefix` in byte order; with a non-empty `delimiter`, the keys
    /// holding it after the prefix roll up into one common prefix each (ending with the delimiter), which counts
    /// once toward `max_keys`. The page holds the entries (keys and common prefixes) whose name is greater than
    /// `start_after`; `next_token` is the name of its last entry, so passing it back as `start_after` continues
    /// after every key under a common prefix. `max_keys` is capped at [`MAX_KEYS`]; 0 gives an empty page, not
    /// truncated.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`].
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
        max_keys: usize,
    ) -> Result<ListPage, StoreError> {
        let txn = self.shared.db.begin_read()?;
        require_bucket(&txn, bucket)?;
        let objects = txn.open_table(OBJECTS)?;
        list::list(&objects, bucket, prefix, delimiter, start_after, max_keys)
    }

    // ---- multipart uploads

    /// Starts a multipart upload; durable on return. Returns its id (32 hex digits).
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`].
    pub fn create_upload(&self, meta: UploadMeta) -> Result<String, StoreError> {
        let id = blob::new_id()?;
        let upload_id = id.clone();
        self.committer.submit(Vec::new(), move |tx| ops::create_upload(tx, &upload_id, &meta))?;
        Ok(id)
    }

    /// An upload's record.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUpload`].
    pub fn upload(&self, upload_id: &str) -> Result<UploadMeta, StoreError> {
        let txn = self.shared.db.begin_read()?;
        let uploads = txn.open_table(UPLOADS)?;
        match uploads.get(upload_id)? {
            Some(v) => decode("upload", v.value()),
            None => Err(StoreError::NoSuchUpload { upload_id: upload_id.into() }),
        }
    }

    /// Records a part pointing at a finished blob, replacing a part of the same number (whose blob is deleted
    /// after the commit); durable on return. When refused, the new blob is deleted.
    ///
    /// # Errors
    /// [`StoreError::InvalidPart`] outside 1..=10000; [`StoreError::NoSuchUpload`].
    pub fn put_part(&self, upload_id: &str, part_number: u32, part: PartMeta) -> Result<(), StoreError> {
        if !(1..=MAX_PART_NUMBER).contains(&part_number) {
            return Err(StoreError::InvalidPart { part_number });
        }
        let upload_id = upload_id.to_owned();
        self.committer
            .submit(vec![part.blob.clone()], move |tx| ops::put_part(tx, &upload_id, part_number, &part))
    }

    /// The parts of an upload, sorted by number.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUpload`].
    pub fn list_parts(&self, upload_id: &str) -> Result<Vec<(u32, PartMeta)>, StoreError> {
        let txn = self.shared.db.begin_read()?;
        if txn.open_table(UPLOADS)?.get(upload_id)?.is_none() {
            return Err(StoreError::NoSuchUpload { upload_id: upload_id.into() });
        }
        let parts = txn.open_table(PARTS)?;
        let start = part_key(upload_id, 0);
        let end = prefix_end(upload_id.as_bytes()).unwrap_or_default();
        let mut out = Vec::new();
        for entry in parts.range(start.as_slice()..end.as_slice())? {
            let (k, v) = entry?;
            out.push((part_number(k.value())?, decode("part", v.value())?));
        }
        Ok(out)
    }

    /// The uploads in progress in a bucket, sorted by key, then initiation time, then id.
    ///
    /// # Errors
    /// [`StoreError::NoSuchBucket`].
    pub fn list_uploads(&self, bucket: &str) -> Result<Vec<(String, UploadMeta)>, StoreError> {
        let txn = self.shared.db.begin_read()?;
        require_bucket(&txn, bucket)?;
        let index = txn.open_table(BUCKET_UPLOADS)?;
        let uploads = txn.open_table(UPLOADS)?;
        let prefix = bucket_prefix(bucket);
        let end = prefix_end(&prefix).unwrap_or_default();
        let mut out = Vec::new();
        for entry in index.range(prefix.as_slice()..end.as_slice())? {
            let (k, _) = entry?;
            let id = k
                .value()
                .get(prefix.len()..)
                .and_then(|b| std::str::from_utf8(b).ok())
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("an upload index entry of bucket `{bucket}` is bad"))
                })?
                .to_owned();
            let meta = match uploads.get(id.as_str())? {
                Some(v) => decode::<UploadMeta>("upload", v.value())?,
                None => {
                    return Err(StoreError::Corrupt(format!("upload `{id}` is indexed but has no record")));
                }
            };
            out.push((id, meta));
        }
        out.sort_by(|(ia, a), (ib, b)| {
            (&a.key, a.initiated_unix_ms, ia).cmp(&(&b.key, b.initiated_unix_ms, ib))
        });
        Ok(out)
    }

    /// Completes an upload in one transaction: removes it and its parts, stores `object` (whose blob is a new one
    /// the node wrote from the parts) at the upload's bucket and key; durable on return. Deletes the part blobs
    /// and the replaced object's blob after the commit. When refused, the new blob is deleted and the upload stays.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUpload`]; [`StoreError::PreconditionFailed`]; [`StoreError::NoSuchKey`] for
    /// [`Precondition::IfMatch`] on a missing key.
    pub fn complete_upload(
        &self,
        upload_id: &str,
        object: ObjectMeta,
        pre: Precondition,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        let upload_id = upload_id.to_owned();
        self.committer
            .submit(vec![object.blob.clone()], move |tx| ops::complete_upload(tx, &upload_id, &object, &pre))
    }

    /// Aborts an upload: removes it and its parts; durable on return. Deletes the part blobs after the commit.
    ///
    /// # Errors
    /// [`StoreError::NoSuchUpload`].
    pub fn abort_upload(&self, upload_id: &str) -> Result<(), StoreError> {
        let upload_id = upload_id.to_owned();
        self.committer.submit(Vec::new(), move |tx| ops::abort_upload(tx, &upload_id))
    }
}

fn require_bucket(txn: &redb::ReadTransaction, bucket: &str) -> Result<(), StoreError> {
    match txn.open_table(BUCKETS)?.get(bucket)? {
        Some(_) => Ok(()),
        None => Err(StoreError::NoSuchBucket { bucket: bucket.into() }),
    }
}
