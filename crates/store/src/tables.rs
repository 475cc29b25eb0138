//! The redb tables and how their keys are encoded. Every name and encoding here is on disk: do not change them
//! (add a table, or bump [`crate::SCHEMA_VERSION`] with a migration).

use redb::TableDefinition;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::StoreError;

/// `"version"` → schema version. Do not change: it is how a store says which layout it has.
pub(crate) const SCHEMA: TableDefinition<&str, u64> = TableDefinition::new("schema");
/// Bucket name → `BucketMeta` JSON. Do not change.
pub(crate) const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
/// `bucket \0 key` → `ObjectMeta` JSON. Do not change.
pub(crate) const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// Upload id → `UploadMeta` JSON. Do not change.
pub(crate) const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads");
/// `upload id (32 bytes) ‖ part number (u32 big-endian)` → `PartMeta` JSON. Do not change.
pub(crate) const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");
/// `bucket \0 upload id` → nothing: the uploads of a bucket, for `list_uploads` and `delete_bucket`. Do not change.
pub(crate) const BUCKET_UPLOADS: TableDefinition<&[u8], ()> = TableDefinition::new("bucket_uploads");

/// The key under which [`SCHEMA`] holds the version. Do not change.
pub(crate) const SCHEMA_KEY: &str = "version";

/// `bucket \0`: the prefix of every key of `bucket` in [`OBJECTS`] and [`BUCKET_UPLOADS`].
/// INVARIANT: bucket names never contain NUL (`create_bucket` refuses them), so the encoding is unambiguous.
pub(crate) fn bucket_prefix(bucket: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1);
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k
}

/// `bucket \0 key`.
pub(crate) fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = bucket_prefix(bucket);
    k.extend_from_slice(key.as_bytes());
    k
}

/// `upload id ‖ part number big-endian`, so that parts sort by number.
pub(crate) fn part_key(upload_id: &str, part_number: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(upload_id.len() + 4);
    k.extend_from_slice(upload_id.as_bytes());
    k.extend_from_slice(&part_number.to_be_bytes());
    k
}

/// The part number at the end of a [`PARTS`] key.
pub(crate) fn part_number(key: &[u8]) -> Result<u32, StoreError> {
    key.len()
        .checked_sub(4)
        .and_then(|at| key.get(at..))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt("a part record has a key too short to hold a part number".into()))
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` when there is none
/// (`prefix` is all `0xff`).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Parses a stored JSON record.
pub(crate) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("a stored {what} record does not parse: {e}")))
}

/// Serialises a record for storing.
pub(crate) fn encode<T: serde::Serialize>(what: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value)
        .map_err(|e| StoreError::Corrupt(format!("cannot serialise a {what} record: {e}")))
}

/// Only the blob of an object or part record: what open needs to find orphans, without parsing the rest.
#[derive(Deserialize)]
pub(crate) struct BlobRef {
    pub(crate) blob: String,
}
