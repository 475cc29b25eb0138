//! Objects the node writes itself (recorded FMV segments): the same sealing ([`crypt::seal_from`], the code an S3
//! PUT's body goes through) and the same object record ([`sealed_meta`], which the S3 PUT builds its record with),
//! without an S3 caller. The writer makes its own decision and audit record before [`ObjectService::commit`].
//!
//! INVARIANT: nothing is referenced by the index before `commit`; a failed commit discards the sealed blob.

use std::collections::BTreeMap;
use std::io::Cursor;

use bytes::Bytes;
use redoubt_store::{BucketMeta, ObjectMeta, Precondition, StoreError};

use super::ObjectService;
use super::crypt::{self, Sealed};
use super::labels::CheckedLabel;

/// Why a node-made write failed (the message is for the log and the recorder's statistics).
#[derive(Debug, thiserror::Error)]
pub enum NodeWriteError {
    /// Sealing the plaintext failed.
    #[error("cannot seal the object: {0}")]
    Seal(String),
    /// The store refused or failed.
    #[error("the store: {0}")]
    Store(#[from] StoreError),
    /// A blocking task did not complete.
    #[error("a storage task failed: {0}")]
    Task(String),
}

/// What a node-made object is stored as.
#[derive(Debug, Clone)]
pub struct NodeObject {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// Its label, checked against the SPIF.
    pub label: CheckedLabel,
    /// Its content type.
    pub content_type: String,
    /// User metadata (shown as `x-amz-meta-*`).
    pub user_metadata: BTreeMap<String, String>,
    /// The owner recorded in the index.
    pub owner: String,
}

/// The index record of a freshly sealed object (S3 PUT and node-made writes alike).
pub fn sealed_meta(
    sealed: &Sealed,
    label: CheckedLabel,
    content_type: Option<String>,
    user_metadata: BTreeMap<String, String>,
    owner: String,
    last_modified_unix_ms: i64,
) -> ObjectMeta {
    ObjectMeta {
        blob: sealed.blob.clone(),
        size: sealed.size,
        stored_size: sealed.stored_size,
        etag: hex::encode(sealed.md5),
        last_modified_unix_ms,
        content_type,
        user_metadata,
        label: label.compact,
        label_marking: label.marking,
        client_ztdf: false,
        parts: 0,
        owner,
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, NodeWriteError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| NodeWriteError::Task(e.to_string()))
}

impl ObjectService {
    /// Creates `bucket` (no default label) when it does not exist; true when it was created.
    pub async fn ensure_bucket(&self, bucket: &str, owner: &str) -> Result<bool, NodeWriteError> {
        let store = self.store().clone();
        let (name, owner) = (bucket.to_owned(), owner.to_owned());
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
        blocking(move || match store.bucket(&name) {
            Ok(_) => Ok(false),
            Err(StoreError::NoSuchBucket { .. }) => {
                match store
                    .create_bucket(&name, BucketMeta { created_unix_ms: now, default_label: None, owner })
                {
                    Ok(()) => Ok(true),
                    Err(StoreError::BucketExists { .. }) => Ok(false),
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        })
        .await?
    }

    /// Seals `body` under `object`'s label into a new blob, not yet referenced.
    pub async fn seal_bytes(&self, object: &NodeObject, body: Bytes) -> Result<Sealed, NodeWriteError> {
        let vault = self.vault();
        let label = object.label.label.clone();
        let mime = object.content_type.clone();
        blocking(move || {
            crypt::seal_from(&vault.store, &vault.keys, &label, Some(&mime), &mut Cursor::new(body))
                .map_err(|e| NodeWriteError::Seal(e.to_string()))
        })
        .await?
    }

    /// Puts the sealed blob in the index under `object` (never replacing an existing key); on failure the blob is
    /// discarded.
    pub async fn commit(&self, object: NodeObject, sealed: &Sealed) -> Result<(), NodeWriteError> {
        let now = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
            .unwrap_or(i64::MAX);
        let meta = sealed_meta(
            sealed,
            object.label,
            Some(object.content_type),
            object.user_metadata,
            object.owner,
            now,
        );
        let store = self.store().clone();
        let (bucket, key) = (object.bucket, object.key);
        blocking(move || store.put_object(&bucket, &key, meta, Precondition::IfNoneMatchAny)).await??;
        Ok(())
    }

    /// Removes a sealed blob that will not be committed.
    pub async fn discard_sealed(&self, sealed: &Sealed) {
        let store = self.store().clone();
        let blob = sealed.blob.clone();
        let _ = blocking(move || store.discard_blob(&blob)).await;
    }
}
