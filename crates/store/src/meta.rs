//! The records the store keeps: what a bucket, an object, a multipart upload and a part are to the index.
//! They are stored as JSON (schema version [`crate::SCHEMA_VERSION`]): renaming or removing a field breaks
//! existing stores, so add fields with `#[serde(default)]` instead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A blob's name: 32 lowercase hex digits (128 random bits). The blob lives at `blobs/<first 2 digits>/<id>`.
pub type BlobId = String;

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketMeta {
    pub created_unix_ms: i64,
    pub default_label: Option<String>,
    pub owner: String,
}

/// An object: where its (encrypted) bytes are and what the node needs to answer HEAD/GET without reading them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The blob holding the stored (encrypted) bytes.
    pub blob: BlobId,
    /// Plaintext bytes.
    pub size: u64,
    /// Bytes of the blob.
    pub stored_size: u64,
    pub etag: String,
    pub last_modified_unix_ms: i64,
    pub content_type: Option<String>,
    pub user_metadata: BTreeMap<String, String>,
    /// The label in compact JSON, opaque to the store.
    pub label: String,
    /// The display marking, opaque to the store.
    pub label_marking: String,
    /// Uploaded as a client-made ZTDF, stored as it came.
    pub client_ztdf: bool,
    /// 0 for a single PUT, N for a multipart upload of N parts.
    pub parts: u32,
    pub owner: String,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadMeta {
    pub bucket: String,
    pub key: String,
    pub initiated_unix_ms: i64,
    pub owner: String,
    pub content_type: Option<String>,
    pub user_metadata: BTreeMap<String, String>,
    pub label: String,
    pub label_marking: String,
}

/// One uploaded part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMeta {
    pub blob: BlobId,
    /// Plaintext bytes.
    pub size: u64,
    /// Bytes of the blob.
    pub stored_size: u64,
    pub etag: String,
    /// Raw MD5 of the part's plaintext, for the multipart ETag.
    pub md5: [u8; 16],
    pub last_modified_unix_ms: i64,
}

/// A condition on the current object that a write must meet, checked inside the write transaction.
/// ETags are compared as exact strings: the caller normalises quoting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Write unconditionally.
    None,
    /// The key must exist with this ETag (a missing key is `NoSuchKey`, as S3 answers 404).
    IfMatch(String),
    /// The key must not exist (`If-None-Match: *`).
    IfNoneMatchAny,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Keys and their records, in byte order.
    pub objects: Vec<(String, ObjectMeta)>,
    /// Rolled-up prefixes (each ends with the delimiter), in byte order.
    pub common_prefixes: Vec<String>,
    /// Pass back as `start_after` to continue; `Some` exactly when `truncated`.
    pub next_token: Option<String>,
    pub truncated: bool,
}

/// What `Store::open` cleaned up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Blob files no object or part referenced (left by a crash between writing a blob and committing it, or
    /// between a commit and the deletion of the blob it replaced), deleted.
    pub orphans_removed: u64,
    /// Entries found in `tmp/`, deleted.
    pub tmp_removed: u64,
    /// Entries in `blobs/` whose names are not ones the store makes, left alone.
    pub foreign_files: u64,
}

/// Counters of the group committer since open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Write transactions committed.
    pub transactions: u64,
    /// Operations they applied (refused ones included).
    pub operations: u64,
}
