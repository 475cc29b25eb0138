//! The write operations, as applied by the committer inside the batch's transaction. Each one reads and checks
//! everything first and writes last (see the invariant in [`crate::commit`]), and sees the writes of the operations
//! before it in the same batch.

use redb::ReadableTable;

use crate::commit::Tx;
use crate::tables::{BlobRef, bucket_prefix, decode, encode, object_key, part_key, prefix_end};
use crate::{BucketMeta, ObjectMeta, PartMeta, Precondition, StoreError, UploadMeta};

pub(crate) fn create_bucket(tx: &mut Tx<'_>, name: &str, meta: &BucketMeta) -> Result<(), StoreError> {
    if tx.buckets().get(name)?.is_some() {
        return Err(StoreError::BucketExists { bucket: name.into() });
    }
    let value = encode("bucket", meta)?;
    tx.buckets_mut().insert(name, value.as_slice())?;
    Ok(())
}

pub(crate) fn delete_bucket(tx: &mut Tx<'_>, name: &str) -> Result<(), StoreError> {
    require_bucket(tx, name)?;
    let prefix = bucket_prefix(name);
    let end = prefix_end(&prefix).unwrap_or_default();
    let has_objects = tx.objects().range(prefix.as_slice()..end.as_slice())?.next().is_some();
    let has_uploads = tx.bucket_uploads().range(prefix.as_slice()..end.as_slice())?.next().is_some();
    if has_objects || has_uploads {
        return Err(StoreError::BucketNotEmpty { bucket: name.into() });
    }
    tx.buckets_mut().remove(name)?;
    Ok(())
}

pub(crate) fn put_object(
    tx: &mut Tx<'_>,
    bucket: &str,
    key: &str,
    meta: &ObjectMeta,
    pre: &Precondition,
) -> Result<Option<ObjectMeta>, StoreError> {
    require_bucket(tx, bucket)?;
    let k = object_key(bucket, key);
    let old = current_object(tx, &k)?;
    check(pre, old.as_ref(), bucket, key)?;
    let value = encode("object", meta)?;
    tx.objects_mut().insert(k.as_slice(), value.as_slice())?;
    if let Some(old) = old.as_ref().filter(|old| old.blob != meta.blob) {
        tx.delete_after_commit(old.blob.clone());
    }
    Ok(old)
}

pub(crate) fn delete_objects(
    tx: &mut Tx<'_>,
    bucket: &str,
    keys: &[String],
) -> Result<Vec<Result<Option<ObjectMeta>, StoreError>>, StoreError> {
    require_bucket(tx, bucket)?;
    let mut results = Vec::with_capacity(keys.len());
    for key in keys {
        let k = object_key(bucket, key);
        // A record that does not parse stays (and its key reports the error): its blob is unknown.
        let result = match current_object(tx, &k) {
            Ok(Some(old)) => {
                tx.objects_mut().remove(k.as_slice())?;
                tx.delete_after_commit(old.blob.clone());
                Ok(Some(old))
            }
            other => other,
        };
        results.push(result);
    }
    Ok(results)
}

pub(crate) fn create_upload(tx: &mut Tx<'_>, id: &str, meta: &UploadMeta) -> Result<(), StoreError> {
    require_bucket(tx, &meta.bucket)?;
    if tx.uploads().get(id)?.is_some() {
        return Err(StoreError::Corrupt(format!(
            "upload id `{id}` is already taken: the random generator is broken"
        )));
    }
    let value = encode("upload", meta)?;
    let mut index = bucket_prefix(&meta.bucket);
    index.extend_from_slice(id.as_bytes());
    tx.uploads_mut().insert(id, value.as_slice())?;
    tx.bucket_uploads_mut().insert(index.as_slice(), ())?;
    Ok(())
}

pub(crate) fn put_part(
    tx: &mut Tx<'_>,
    upload_id: &str,
    part_number: u32,
    part: &PartMeta,
) -> Result<(), StoreError> {
    current_upload(tx, upload_id)?;
    let k = part_key(upload_id, part_number);
    let old = match tx.parts().get(k.as_slice())? {
        Some(v) => Some(decode::<BlobRef>("part", v.value())?.blob),
        None => None,
    };
    let value = encode("part", part)?;
    tx.parts_mut().insert(k.as_slice(), value.as_slice())?;
    if let Some(old) = old.filter(|old| *old != part.blob) {
        tx.delete_after_commit(old);
    }
    Ok(())
}

pub(crate) fn complete_upload(
    tx: &mut Tx<'_>,
    upload_id: &str,
    object: &ObjectMeta,
    pre: &Precondition,
) -> Result<Option<ObjectMeta>, StoreError> {
    let upload = current_upload(tx, upload_id)?;
    require_bucket(tx, &upload.bucket)?;
    let k = object_key(&upload.bucket, &upload.key);
    let old = current_object(tx, &k)?;
    check(pre, old.as_ref(), &upload.bucket, &upload.key)?;
    let part_blobs = part_blobs(tx, upload_id)?;
    remove_upload(tx, upload_id, &upload, part_blobs, &object.blob)?;
    let value = encode("object", object)?;
    tx.objects_mut().insert(k.as_slice(), value.as_slice())?;
    if let Some(old) = old.as_ref().filter(|old| old.blob != object.blob) {
        tx.delete_after_commit(old.blob.clone());
    }
    Ok(old)
}

pub(crate) fn abort_upload(tx: &mut Tx<'_>, upload_id: &str) -> Result<(), StoreError> {
    let upload = current_upload(tx, upload_id)?;
    let part_blobs = part_blobs(tx, upload_id)?;
    remove_upload(tx, upload_id, &upload, part_blobs, "")
}

/// Removes an upload, its index entry and its part records, and schedules the part blobs for deletion, except
/// `keep` (the completed object's blob, should the node have reused a part's).
fn remove_upload(
    tx: &mut Tx<'_>,
    upload_id: &str,
    upload: &UploadMeta,
    part_blobs: Vec<(Vec<u8>, String)>,
    keep: &str,
) -> Result<(), StoreError> {
    for (key, blob) in part_blobs {
        tx.parts_mut().remove(key.as_slice())?;
        if blob != keep {
            tx.delete_after_commit(blob);
        }
    }
    let mut index = bucket_prefix(&upload.bucket);
    index.extend_from_slice(upload_id.as_bytes());
    tx.bucket_uploads_mut().remove(index.as_slice())?;
    tx.uploads_mut().remove(upload_id)?;
    Ok(())
}

/// The key and blob of every part of an upload.
fn part_blobs(tx: &Tx<'_>, upload_id: &str) -> Result<Vec<(Vec<u8>, String)>, StoreError> {
    let start = upload_id.as_bytes();
    let end = prefix_end(start).unwrap_or_default();
    let mut out = Vec::new();
    for entry in tx.parts().range(start..end.as_slice())? {
        let (k, v) = entry?;
        out.push((k.value().to_vec(), decode::<BlobRef>("part", v.value())?.blob));
    }
    Ok(out)
}

fn require_bucket(tx: &Tx<'_>, bucket: &str) -> Result<(), StoreError> {
    match tx.buckets().get(bucket)? {
        Some(_) => Ok(()),
        None => Err(StoreError::NoSuchBucket { bucket: bucket.into() }),
    }
}

fn current_object(tx: &Tx<'_>, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError> {
    match tx.objects().get(k)? {
        Some(v) => Ok(Some(decode("object", v.value())?)),
        None => Ok(None),
    }
}

fn current_upload(tx: &Tx<'_>, upload_id: &str) -> Result<UploadMeta, StoreError> {
    match tx.uploads().get(upload_id)? {
        Some(v) => decode("upload", v.value()),
        None => Err(StoreError::NoSuchUpload { upload_id: upload_id.into() }),
    }
}

/// Checks a precondition against the current object (including earlier writes of the same batch).
fn check(
    pre: &Precondition,
    current: Option<&ObjectMeta>,
    bucket: &str,
    key: &str,
) -> Result<(), StoreError> {
    match (pre, current) {
        (Precondition::None, _) | (Precondition::IfNoneMatchAny, None) => Ok(()),
        (Precondition::IfNoneMatchAny, Some(_)) => Err(StoreError::PreconditionFailed),
        (Precondition::IfMatch(_), None) => {
            Err(StoreError::NoSuchKey { bucket: bucket.into(), key: key.into() })
        }
        (Precondition::IfMatch(etag), Some(current)) if current.etag == *etag => Ok(()),
        (Precondition::IfMatch(_), Some(_)) => Err(StoreError::PreconditionFailed),
    }
}
