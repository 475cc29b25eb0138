//! kill -9 in the middle of concurrent writes, then reopen: every acknowledged write is there with its blob intact,
//! an unacknowledged one is either fully there or not at all, and no blob is left that nothing references.
//! (A process kill keeps the page cache: this tests the commit protocol and the cleanup, not power loss.)

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::print_stdout, reason = "tests")]

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redoubt_store::{BucketMeta, ObjectMeta, Precondition, Store, StoreError};

const CHILD_ENV: &str = "REDOUBT_STORE_CRASH_CHILD";
const THREADS: usize = 4;
const KEYS_PER_THREAD: usize = 8;

fn object(blob: String, etag: &str) -> ObjectMeta {
    ObjectMeta {
        blob,
        size: 0,
        stored_size: 0,
        etag: etag.into(),
        last_modified_unix_ms: 0,
        content_type: None,
        user_metadata: BTreeMap::new(),
        label: "{}".into(),
        label_marking: String::new(),
        client_ztdf: false,
        parts: 0,
        owner: "o".into(),
    }
}

/// The child: writes forever from several threads, printing each operation before and after it is acknowledged.
/// Does nothing unless started by `acknowledged_writes_survive_kill_9`.
#[test]
fn crash_child_writer() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let store = Arc::new(Store::open(Path::new(&dir)).unwrap());
    match store.create_bucket("b", BucketMeta { created_unix_ms: 0, default_label: None, owner: "o".into() })
    {
        Ok(()) | Err(StoreError::BucketExists { .. }) => {}
        Err(e) => panic!("{e}"),
    }
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                let mut out = std::io::stdout();
                for i in 0u64.. {
                    let key = format!("t{t}/k{}", i.wrapping_mul(7919) % KEYS_PER_THREAD as u64);
                    if i % 5 == 4 {
                        writeln!(out, "@@ try {t} {key} del").unwrap();
                        store.delete_object("b", &key).unwrap();
                    } else {
                        let mut w = store.blob_writer().unwrap();
                        // Big enough that a kill often lands mid-blob.
                        let body = format!("{key} {i} ").repeat(2000);
                        w.write_all(body.as_bytes()).unwrap();
                        let id = w.finish().unwrap();
                        writeln!(out, "@@ try {t} {key} put {id} {i}").unwrap();
                        store.put_object("b", &key, object(id, &i.to_string()), Precondition::None).unwrap();
                    }
                    writeln!(out, "@@ ok {t}").unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// What a key may hold after the crash: `None` = absent, `Some((blob, i))` = that put.
type State = Option<(String, u64)>;

#[test]
fn acknowledged_writes_survive_kill_9() {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let root = tmp.path().join("store");
    // Per key: the last acknowledged state, and the state of an operation in flight at the kill.
    let mut acked: BTreeMap<String, State> = BTreeMap::new();
    for round in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child_writer", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let kill_at = Instant::now() + Duration::from_millis(150 + 70 * round);
        let mut in_flight: BTreeMap<usize, (String, State)> = BTreeMap::new();
        let mut lines = BufReader::new(stdout).lines();
        let mut acks = 0;
        let mut killed = false;
        // Read until the pipe closes: what the child printed before it died must all be counted.
        while let Some(Ok(line)) = lines.next() {
            if !killed && Instant::now() >= kill_at {
                child.kill().unwrap();
                killed = true;
            }
            // libtest may print its own text before ours on the same line.
            let Some(at) = line.rfind("@@") else { continue };
            let words: Vec<&str> = line[at + 2..].split_whitespace().collect();
            match words.as_slice() {
                ["try", t, key, "del"] => {
                    in_flight.insert(t.parse().unwrap(), (key.to_string(), None));
                }
                ["try", t, key, "put", id, i] => {
                    in_flight.insert(
                        t.parse().unwrap(),
                        (key.to_string(), Some((id.to_string(), i.parse().unwrap()))),
                    );
                }
                ["ok", t] => {
                    let (key, state) = in_flight.remove(&t.parse::<usize>().unwrap()).unwrap();
                    acked.insert(key, state);
                    acks += 1;
                }
                _ => {}
            }
        }
        assert!(killed, "round {round}: the writer stopped by itself");
        child.wait().unwrap();

        let store = Store::open(&root).unwrap();
        let in_flight: BTreeMap<String, State> = in_flight.into_values().collect();
        let mut referenced = HashSet::new();
        for t in 0..THREADS {
            for k in 0..KEYS_PER_THREAD {
                let key = format!("t{t}/k{k}");
                let now: State = match store.object("b", &key) {
                    Ok(meta) => Some((meta.blob, meta.etag.parse().unwrap())),
                    Err(StoreError::NoSuchKey { .. }) => None,
                    Err(e) => panic!("{e}"),
                };
                let allowed =
                    [acked.get(&key).cloned().unwrap_or(None), in_flight.get(&key).cloned().unwrap_or(None)];
                assert!(
                    allowed.contains(&now)
                        || (!acked.contains_key(&key) && !in_flight.contains_key(&key) && now.is_none()),
                    "round {round}: `{key}` is {now:?}, expected one of {allowed:?}"
                );
                if let Some((blob, i)) = &now {
                    let body = std::fs::read(root.join("blobs").join(&blob[..2]).join(blob)).unwrap();
                    assert_eq!(
                        body,
                        format!("{key} {i} ").repeat(2000).as_bytes(),
                        "round {round}: blob of `{key}`"
                    );
                    referenced.insert(blob.clone());
                }
                // From now on the state is known exactly.
                acked.insert(key, now);
            }
        }
        let on_disk = blob_files(&root.join("blobs"));
        assert_eq!(on_disk, referenced, "round {round}: blobs on disk are exactly the referenced ones");
        println!("round {round}: {acks} acknowledged, {:?}", store.open_report());
    }
}

fn blob_files(dir: &Path) -> HashSet<String> {
    let mut out = HashSet::new();
    for shard in std::fs::read_dir(dir).unwrap() {
        for file in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            out.insert(file.unwrap().file_name().into_string().unwrap());
        }
    }
    out
}
