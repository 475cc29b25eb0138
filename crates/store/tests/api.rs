//! The store's API from the outside: bucket and object lifecycles, preconditions, listing, multipart uploads,
//! blob ids. Crash cleanup and concurrency are in `recovery.rs`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests: helper functions panic on failure")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use redoubt_store::{BucketMeta, ObjectMeta, PartMeta, Precondition, Store, StoreError, UploadMeta};

fn bucket_meta() -> BucketMeta {
    BucketMeta { created_unix_ms: 1, default_label: Some("{\"c\":\"S\"}".into()), owner: "alice".into() }
}

fn blob(store: &Store, bytes: &[u8]) -> String {
    let mut w = store.blob_writer().unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

fn object(blob: String, etag: &str) -> ObjectMeta {
    ObjectMeta {
        blob,
        size: 3,
        stored_size: 3,
        etag: etag.into(),
        last_modified_unix_ms: 7,
        content_type: Some("text/plain".into()),
        user_metadata: BTreeMap::from([("a".into(), "b".into())]),
        label: "{}".into(),
        label_marking: "UNCLASSIFIED".into(),
        client_ztdf: false,
        parts: 0,
        owner: "alice".into(),
    }
}

fn put(store: &Store, key: &str, etag: &str) -> (String, Option<ObjectMeta>) {
    let id = blob(store, etag.as_bytes());
    let old = store.put_object("b", key, object(id.clone(), etag), Precondition::None).unwrap();
    (id, old)
}

fn blob_exists(store: &Store, id: &String) -> bool {
    store.open_blob(id).is_ok()
}

/// Whether the blob is gone. Blobs a write stops referencing are deleted just after the writer's reply, so
/// this waits a little for it.
fn blob_gone(store: &Store, id: &String) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while blob_exists(store, id) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    store.create_bucket("b", bucket_meta()).unwrap();
    (dir, store)
}

#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
    check::<Arc<Store>>();
}

#[test]
fn bucket_lifecycle_errors() {
    let (_dir, store) = open();
    assert!(
        matches!(store.create_bucket("b", bucket_meta()), Err(StoreError::BucketExists { bucket }) if bucket == "b")
    );
    assert!(matches!(store.create_bucket("a\0b", bucket_meta()), Err(StoreError::InvalidBucketName { .. })));
    assert!(matches!(store.bucket("nope"), Err(StoreError::NoSuchBucket { .. })));
    assert!(matches!(store.delete_bucket("nope"), Err(StoreError::NoSuchBucket { .. })));
    store.create_bucket("a", bucket_meta()).unwrap();
    let names: Vec<String> = store.list_buckets().unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(store.bucket("b").unwrap(), bucket_meta());

    // Not empty: an object, then an upload in progress.
    put(&store, "k", "1");
    assert!(matches!(store.delete_bucket("b"), Err(StoreError::BucketNotEmpty { .. })));
    store.delete_object("b", "k").unwrap();
    let upload = store.create_upload(upload_meta("b", "k")).unwrap();
    assert!(matches!(store.delete_bucket("b"), Err(StoreError::BucketNotEmpty { .. })));
    store.abort_upload(&upload).unwrap();
    store.delete_bucket("b").unwrap();
    assert!(matches!(store.bucket("b"), Err(StoreError::NoSuchBucket { .. })));
    // Objects of a neighbouring bucket ("a") do not make "b" look non-empty and vice versa.
    assert!(matches!(store.object("b", "k"), Err(StoreError::NoSuchBucket { .. })));
}

#[test]
fn put_get_replace_delete() {
    let (_dir, store) = open();
    let (first, old) = put(&store, "k", "1");
    assert_eq!(old, None);
    assert_eq!(store.object("b", "k").unwrap(), object(first.clone(), "1"));
    let mut bytes = Vec::new();
    store.open_blob(&first).unwrap().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, b"1");

    let (second, old) = put(&store, "k", "2");
    assert_eq!(old, Some(object(first.clone(), "1")), "returns the replaced record");
    assert!(blob_gone(&store, &first), "the replaced blob is deleted after the commit");
    assert!(blob_exists(&store, &second));

    assert!(matches!(store.object("b", "other"), Err(StoreError::NoSuchKey { .. })));
    assert!(matches!(store.object("nope", "k"), Err(StoreError::NoSuchBucket { .. })));
    assert!(matches!(
        store.put_object("nope", "k", object(blob(&store, b"x"), "x"), Precondition::None),
        Err(StoreError::NoSuchBucket { .. })
    ));

    assert_eq!(store.delete_object("b", "k").unwrap(), Some(object(second.clone(), "2")));
    assert!(blob_gone(&store, &second));
    assert_eq!(store.delete_object("b", "k").unwrap(), None, "deleting a missing key is not an error");
    assert!(matches!(store.delete_object("nope", "k"), Err(StoreError::NoSuchBucket { .. })));
}

#[test]
fn delete_objects_in_one_call() {
    let (_dir, store) = open();
    let (a, _) = put(&store, "a", "1");
    let (c, _) = put(&store, "c", "3");
    let results = store.delete_objects("b", &["a".into(), "b".into(), "c".into()]).unwrap();
    let results: Vec<Option<String>> = results.into_iter().map(|r| r.unwrap().map(|m| m.blob)).collect();
    assert_eq!(results, [Some(a.clone()), None, Some(c.clone())]);
    assert!(blob_gone(&store, &a) && blob_gone(&store, &c));
    assert!(store.list_objects("b", "", None, None, 10).unwrap().objects.is_empty());
}

#[test]
fn preconditions() {
    let (_dir, store) = open();
    let fresh = blob(&store, b"x");
    assert!(matches!(
        store.put_object("b", "k", object(fresh.clone(), "x"), Precondition::IfMatch("1".into())),
        Err(StoreError::NoSuchKey { .. })
    ));
    assert!(blob_gone(&store, &fresh), "a refused put deletes its (never referenced) blob");

    let (first, _) = put(&store, "k", "1");
    let other = blob(&store, b"y");
    assert!(matches!(
        store.put_object("b", "k", object(other.clone(), "y"), Precondition::IfNoneMatchAny),
        Err(StoreError::PreconditionFailed)
    ));
    assert!(matches!(
        store.put_object("b", "k", object(blob(&store, b"z"), "z"), Precondition::IfMatch("wrong".into())),
        Err(StoreError::PreconditionFailed)
    ));
    assert_eq!(store.object("b", "k").unwrap().blob, first, "refused puts change nothing");
    assert!(blob_gone(&store, &other));

    let third = blob(&store, b"3");
    let old = store.put_object("b", "k", object(third, "3"), Precondition::IfMatch("1".into())).unwrap();
    assert_eq!(old.map(|m| m.etag).as_deref(), Some("1"));
    let new = blob(&store, b"n");
    assert_eq!(store.put_object("b", "new", object(new, "n"), Precondition::IfNoneMatchAny).unwrap(), None);
}

/// Many concurrent `If-None-Match: *` puts of one key (most land in the same batch): exactly one wins, and only
/// the winner's blob survives.
#[test]
fn if_none_match_races_have_one_winner() {
    let (_dir, store) = open();
    let store = Arc::new(store);
    for round in 0..5 {
        let key = format!("race{round}");
        let barrier = Arc::new(Barrier::new(16));
        let handles: Vec<_> = (0..16)
            .map(|i| {
                let (store, barrier, key) = (Arc::clone(&store), Arc::clone(&barrier), key.clone());
                std::thread::spawn(move || {
                    let id = blob(&store, b"r");
                    barrier.wait();
                    let r = store.put_object(
                        "b",
                        &key,
                        object(id.clone(), &i.to_string()),
                        Precondition::IfNoneMatchAny,
                    );
                    (id, r)
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let winners: Vec<_> = results.iter().filter(|(_, r)| r.is_ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}");
        assert!(results.iter().all(|(_, r)| matches!(r, Ok(None) | Err(StoreError::PreconditionFailed))));
        let winner = &winners[0].0;
        assert_eq!(&store.object("b", &key).unwrap().blob, winner);
        for (id, _) in &results {
            assert!(if id == winner { blob_exists(&store, id) } else { blob_gone(&store, id) });
        }
    }
}

#[test]
fn open_blob_rejects_bad_ids() {
    let (_dir, store) = open();
    for bad in [
        "../x",
        "",
        "0123456789abcdef0123456789ABCDEF",
        "0123456789abcdef0123456789abcde",
        "../../../../etc/passwd",
        "0123456789abcdef0123456789abcdef0",
        "0123456789abcdef0123456789abcdeg",
        "ab/cdef0123456789abcdef0123456789",
    ] {
        assert!(matches!(store.open_blob(&bad.to_owned()), Err(StoreError::Corrupt(_))), "{bad:?}");
    }
    assert!(matches!(store.open_blob(&"0".repeat(32)), Err(StoreError::Io { .. })));
}

#[test]
fn unfinished_and_discarded_blobs_are_deleted() {
    let (dir, store) = open();
    let count = || walk(&dir.path().join("store/blobs"));
    let mut w = store.blob_writer().unwrap();
    w.write_all(&[7; 100_000]).unwrap();
    assert_eq!(count(), 1);
    drop(w);
    assert_eq!(count(), 0, "a writer dropped unfinished deletes its file");

    let id = blob(&store, b"d");
    store.discard_blob(&id);
    assert!(blob_gone(&store, &id));

    let (kept, _) = put(&store, "k", "1");
    store.discard_blob(&kept);
    assert!(blob_exists(&store, &kept), "discard never deletes a committed blob");
}

/// Files under a directory, recursively.
pub fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() { walk(&e.path()) } else { 1 }
        })
        .sum()
}

#[test]
fn list_objects_through_the_store() {
    let (_dir, store) = open();
    store.create_bucket("b2", bucket_meta()).unwrap();
    let keys = ["a", "a/1", "a/2", "a/b/c", "b", "b/x", "c"];
    let store = Arc::new(store);
    let handles: Vec<_> = keys
        .iter()
        .map(|k| {
            let store = Arc::clone(&store);
            let k = k.to_string();
            std::thread::spawn(move || put(&store, &k, &k))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let id = blob(&store, b"o");
    store.put_object("b2", "a/zz", object(id, "o"), Precondition::None).unwrap();

    let all = store.list_objects("b", "", None, None, 1000).unwrap();
    assert_eq!(all.objects.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), keys);
    assert!(!all.truncated && all.next_token.is_none());

    let page = store.list_objects("b", "", Some("/"), None, 2).unwrap();
    assert_eq!(page.objects.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["a"]);
    assert_eq!(page.common_prefixes, ["a/"]);
    assert!(page.truncated);
    assert_eq!(page.next_token.as_deref(), Some("a/"));
    let page = store.list_objects("b", "", Some("/"), page.next_token.as_deref(), 2).unwrap();
    assert_eq!(page.objects.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(page.common_prefixes, ["b/"]);
    let page = store.list_objects("b", "", Some("/"), page.next_token.as_deref(), 2).unwrap();
    assert_eq!(page.objects.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["c"]);
    assert!(page.common_prefixes.is_empty() && !page.truncated && page.next_token.is_none());

    let page = store.list_objects("b", "a/", Some("/"), None, 10).unwrap();
    assert_eq!(page.objects.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["a/1", "a/2"]);
    assert_eq!(page.common_prefixes, ["a/b/"]);

    let empty = store.list_objects("b", "", None, None, 0).unwrap();
    assert!(empty.objects.is_empty() && !empty.truncated);
    assert!(matches!(store.list_objects("nope", "", None, None, 10), Err(StoreError::NoSuchBucket { .. })));
}

fn upload_meta(bucket: &str, key: &str) -> UploadMeta {
    UploadMeta {
        bucket: bucket.into(),
        key: key.into(),
        initiated_unix_ms: 5,
        owner: "alice".into(),
        content_type: None,
        user_metadata: BTreeMap::new(),
        label: "{}".into(),
        label_marking: "U".into(),
    }
}

fn part(store: &Store, n: u8) -> PartMeta {
    PartMeta {
        blob: blob(store, &[n]),
        size: 1,
        stored_size: 1,
        etag: format!("p{n}"),
        md5: [n; 16],
        last_modified_unix_ms: 9,
    }
}

#[test]
fn multipart_complete() {
    let (_dir, store) = open();
    let (old_blob, _) = put(&store, "k", "old");
    assert!(matches!(store.create_upload(upload_meta("nope", "k")), Err(StoreError::NoSuchBucket { .. })));
    let id = store.create_upload(upload_meta("b", "k")).unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(store.upload(&id).unwrap(), upload_meta("b", "k"));
    let other = store.create_upload(upload_meta("b", "a")).unwrap();
    let listed: Vec<String> = store.list_uploads("b").unwrap().into_iter().map(|(i, _)| i).collect();
    assert_eq!(listed, [other.clone(), id.clone()], "sorted by key");

    let p2 = part(&store, 2);
    let p1 = part(&store, 1);
    store.put_part(&id, 2, p2.clone()).unwrap();
    store.put_part(&id, 1, p1.clone()).unwrap();
    let replaced = part(&store, 3);
    store.put_part(&id, 2, replaced.clone()).unwrap();
    assert!(blob_gone(&store, &p2.blob), "a replaced part's blob is deleted");
    assert_eq!(store.list_parts(&id).unwrap(), [(1, p1.clone()), (2, replaced.clone())]);
    assert!(store.list_parts(&other).unwrap().is_empty());

    for bad in [0, 10_001] {
        assert!(
            matches!(store.put_part(&id, bad, part(&store, 9)), Err(StoreError::InvalidPart { part_number }) if part_number == bad)
        );
    }
    let orphan = part(&store, 8);
    assert!(matches!(
        store.put_part("0".repeat(32).as_str(), 1, orphan.clone()),
        Err(StoreError::NoSuchUpload { .. })
    ));
    assert!(blob_gone(&store, &orphan.blob));

    let assembled = blob(&store, b"12");
    let refused = store.complete_upload(&id, object(assembled.clone(), "m-2"), Precondition::IfNoneMatchAny);
    assert!(matches!(refused, Err(StoreError::PreconditionFailed)));
    assert!(store.upload(&id).is_ok(), "a refused completion keeps the upload");
    let assembled = blob(&store, b"12");
    let mut meta = object(assembled.clone(), "m-2");
    meta.parts = 2;
    let old = store.complete_upload(&id, meta.clone(), Precondition::IfMatch("old".into())).unwrap();
    assert_eq!(old.map(|m| m.blob), Some(old_blob.clone()));
    assert_eq!(store.object("b", "k").unwrap(), meta);
    for gone in [&old_blob, &p1.blob, &replaced.blob] {
        assert!(blob_gone(&store, gone));
    }
    assert!(blob_exists(&store, &assembled));
    assert!(matches!(store.upload(&id), Err(StoreError::NoSuchUpload { .. })));
    assert!(matches!(store.list_parts(&id), Err(StoreError::NoSuchUpload { .. })));
    let listed: Vec<String> = store.list_uploads("b").unwrap().into_iter().map(|(i, _)| i).collect();
    assert_eq!(listed, [other]);
    assert!(matches!(
        store.complete_upload(&id, object(blob(&store, b"x"), "x"), Precondition::None),
        Err(StoreError::NoSuchUpload { .. })
    ));
}

#[test]
fn multipart_abort() {
    let (_dir, store) = open();
    let id = store.create_upload(upload_meta("b", "k")).unwrap();
    let parts: Vec<PartMeta> = (1..=3).map(|n| part(&store, n)).collect();
    for (n, p) in parts.iter().enumerate() {
        store.put_part(&id, n as u32 + 1, p.clone()).unwrap();
    }
    store.abort_upload(&id).unwrap();
    assert!(parts.iter().all(|p| blob_gone(&store, &p.blob)));
    assert!(matches!(store.abort_upload(&id), Err(StoreError::NoSuchUpload { .. })));
    assert!(store.list_uploads("b").unwrap().is_empty());
    assert!(matches!(store.object("b", "k"), Err(StoreError::NoSuchKey { .. })));
    store.delete_bucket("b").unwrap();
}

#[test]
fn keys_with_nul_and_odd_bytes_stay_in_their_bucket() {
    let (_dir, store) = open();
    store.create_bucket("b\u{1}", bucket_meta()).unwrap();
    let id = blob(&store, b"n");
    store.put_object("b", "x\0y", object(id, "n"), Precondition::None).unwrap();
    let id = blob(&store, b"m");
    store.put_object("b\u{1}", "z", object(id, "m"), Precondition::None).unwrap();
    assert_eq!(store.object("b", "x\0y").unwrap().etag, "n");
    let keys: BTreeSet<String> =
        store.list_objects("b", "", None, None, 10).unwrap().objects.into_iter().map(|(k, _)| k).collect();
    assert_eq!(keys, BTreeSet::from(["x\0y".to_owned()]));
}
