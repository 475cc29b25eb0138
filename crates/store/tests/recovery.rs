//! Durability and crash cleanup: what survives a reopen, what open removes, concurrent writers.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests: helper functions panic on failure")]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use redoubt_store::{
    BucketMeta, ObjectMeta, OpenReport, PartMeta, Precondition, Store, StoreError, UploadMeta,
};

fn bucket_meta() -> BucketMeta {
    BucketMeta { created_unix_ms: 1, default_label: None, owner: "alice".into() }
}

fn blob(store: &Store, bytes: &[u8]) -> String {
    let mut w = store.blob_writer().unwrap();
    w.write_all(bytes).unwrap();
    w.finish().unwrap()
}

fn object(blob: String, etag: &str) -> ObjectMeta {
    ObjectMeta {
        blob,
        size: 1,
        stored_size: 1,
        etag: etag.into(),
        last_modified_unix_ms: 0,
        content_type: None,
        user_metadata: BTreeMap::new(),
        label: "{}".into(),
        label_marking: String::new(),
        client_ztdf: false,
        parts: 0,
        owner: "alice".into(),
    }
}

fn blob_path(root: &std::path::Path, id: &str) -> std::path::PathBuf {
    root.join("blobs").join(&id[..2]).join(id)
}

#[test]
fn orphans_and_tmp_are_cleaned_at_open_and_referenced_blobs_survive() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let (orphan, kept, part_blob, upload) = {
        let store = Store::open(&root).unwrap();
        assert_eq!(*store.open_report(), OpenReport::default());
        store.create_bucket("b", bucket_meta()).unwrap();
        let orphan = blob(&store, b"never committed");
        let kept = blob(&store, b"committed");
        store.put_object("b", "k", object(kept.clone(), "1"), Precondition::None).unwrap();
        let upload = store
            .create_upload(UploadMeta {
                bucket: "b".into(),
                key: "m".into(),
                initiated_unix_ms: 0,
                owner: "alice".into(),
                content_type: None,
                user_metadata: BTreeMap::new(),
                label: "{}".into(),
                label_marking: String::new(),
            })
            .unwrap();
        let part_blob = blob(&store, b"part");
        let part = PartMeta {
            blob: part_blob.clone(),
            size: 4,
            stored_size: 4,
            etag: "p".into(),
            md5: [0; 16],
            last_modified_unix_ms: 0,
        };
        store.put_part(&upload, 1, part).unwrap();
        std::fs::write(store.tmp_dir().join("scratch"), b"x").unwrap();
        std::fs::create_dir(store.tmp_dir().join("dir")).unwrap();
        std::fs::write(store.tmp_dir().join("dir/inner"), b"x").unwrap();
        (orphan, kept, part_blob, upload)
    };
    assert!(blob_path(&root, &orphan).exists());
    // Files the store did not make: left alone, counted.
    std::fs::write(root.join("blobs/README"), b"x").unwrap();
    std::fs::write(root.join("blobs").join(&kept[..2]).join("not-an-id"), b"x").unwrap();
    let misplaced = if kept.starts_with("00") { "01" } else { "00" };
    std::fs::create_dir_all(root.join("blobs").join(misplaced)).unwrap();
    std::fs::write(root.join("blobs").join(misplaced).join(&kept), b"x").unwrap();

    let store = Store::open(&root).unwrap();
    assert_eq!(*store.open_report(), OpenReport { orphans_removed: 1, tmp_removed: 2, foreign_files: 3 });
    assert!(!blob_path(&root, &orphan).exists());
    assert!(blob_path(&root, &kept).exists());
    assert!(blob_path(&root, &part_blob).exists(), "a part's blob is referenced too");
    assert_eq!(store.object("b", "k").unwrap().blob, kept);
    assert_eq!(store.list_parts(&upload).unwrap().len(), 1);
    assert!(root.join("blobs/README").exists());
    assert_eq!(std::fs::read_dir(store.tmp_dir()).unwrap().count(), 0);
    drop(store);

    let store = Store::open(&root).unwrap();
    assert_eq!(store.open_report().orphans_removed, 0);
}

#[test]
fn a_second_open_of_a_live_store_fails_without_cleaning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Store::open(&root).unwrap();
    let fresh = blob(&store, b"being written");
    assert!(matches!(Store::open(&root), Err(StoreError::Db(_))));
    assert!(blob_path(&root, &fresh).exists(), "the live store's blob was not taken for an orphan");
}

#[test]
fn concurrent_puts_are_all_durable_and_visible() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let store = Arc::new(Store::open(&root).unwrap());
    store.create_bucket("b", bucket_meta()).unwrap();
    let threads = 16;
    let per_thread = 20;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    let key = format!("t{t:02}/k{i:03}");
                    let id = blob(&store, key.as_bytes());
                    assert_eq!(
                        store.put_object("b", &key, object(id.clone(), &key), Precondition::None).unwrap(),
                        None
                    );
                    // Read-your-writes: visible as soon as the put returns.
                    assert_eq!(store.object("b", &key).unwrap().blob, id);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    drop(store);
    let store = Store::open(&root).unwrap();
    assert_eq!(store.open_report().orphans_removed, 0);
    let mut seen = 0;
    let mut token: Option<String> = None;
    loop {
        let page = store.list_objects("b", "", None, token.as_deref(), 1000).unwrap();
        for (key, meta) in &page.objects {
            assert_eq!(&meta.etag, key);
            assert_eq!(std::fs::read(blob_path(&root, &meta.blob)).unwrap(), key.as_bytes());
        }
        seen += page.objects.len();
        if !page.truncated {
            break;
        }
        token = page.next_token;
    }
    assert_eq!(seen, threads * per_thread);
}
