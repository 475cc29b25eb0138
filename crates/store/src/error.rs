//! The store's one error type. Variants say whether the caller asked for something that does not fit the current
//! state (no such bucket, precondition failed, …), the disk failed (`Io`, `Db`) or the stored data is not what
//! this crate writes (`Corrupt`). Mapping to S3 codes and HTTP statuses belongs to the node, not here.

use std::fmt::Display;

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("bucket `{bucket}` does not exist: create it first or check its name")]
    NoSuchBucket { bucket: String },
    /// `create_bucket` on a name already taken.
    #[error("bucket `{bucket}` already exists: choose another name")]
    BucketExists { bucket: String },
    /// `delete_bucket` on a bucket that still holds objects or multipart uploads in progress.
    #[error("bucket `{bucket}` is not empty: delete its objects and abort its multipart uploads first")]
    BucketNotEmpty { bucket: String },
    /// The bucket name cannot be stored (it contains a NUL character, which the object index uses as separator).
    #[error("bucket name `{bucket}` contains a NUL character: use a valid S3 bucket name")]
    InvalidBucketName { bucket: String },
    /// The object does not exist.
    #[error("object `{key}` does not exist in bucket `{bucket}`")]
    NoSuchKey { bucket: String, key: String },
    /// The multipart upload does not exist (never created, or already completed or aborted).
    #[error("multipart upload `{upload_id}` does not exist: it was completed, aborted or never created")]
    NoSuchUpload { upload_id: String },
    /// A part number outside 1..=10000.
    #[error("part number {part_number} is out of range: part numbers go from 1 to 10000")]
    InvalidPart { part_number: u32 },
    /// `If-Match` named another ETag, or `If-None-Match: *` found the key present.
    #[error("the precondition failed: the object changed or already exists; read it again before retrying")]
    PreconditionFailed,
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The metadata database failed (the redb error as text).
    #[error("metadata database error: {0}; check the disk and the store's `meta.redb`")]
    Db(String),
    /// Stored data this crate would never have written (a bad record, a bad blob id).
    #[error("the store is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Builds an [`StoreError::Io`] with what was being done.
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
        let context = context.into();
        move |source| StoreError::Io { context, source }
    }

    /// Turns any redb error into [`StoreError::Db`].
    pub(crate) fn db(e: impl Display) -> StoreError {
        StoreError::Db(e.to_string())
    }

    /// Whether the failure came from the disk or the database rather than from the caller's request: such an error
    /// inside a write transaction leaves it in an unknown state, so the transaction must be abandoned.
    pub(crate) fn is_storage(&self) -> bool {
        matches!(self, StoreError::Io { .. } | StoreError::Db(_))
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::db(e)
            }
        }
    )*};
}

from_redb!(
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError
);
