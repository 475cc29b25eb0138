//! Group commit against one commit per write, side by side in one run (the machine is shared: compare the
//! ratios). N threads each do M puts of a 64-byte blob (write, fsync, put_object: durable on return) into a store
//! on the target directory's disk (not a tmpfs, where fsync would cost nothing).
//! Run: `CARGO_TARGET_DIR=/work/target-store cargo bench -p redoubt-store --bench commit`.

#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a benchmark program")]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use redoubt_store::{BucketMeta, CommitStats, ObjectMeta, Precondition, Store, StoreOptions};

/// Puts per configuration, spread over the threads.
const PUTS: usize = 1920;

/// `max_batch: None` writes and fsyncs the blobs only, without committing them: the floor the disk sets.
fn run(threads: usize, max_batch: Option<usize>) -> (Duration, CommitStats) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = Arc::new(
        Store::open_with(&dir.path().join("store"), StoreOptions { max_batch: max_batch.unwrap_or(1) })
            .unwrap(),
    );
    store
        .create_bucket("b", BucketMeta { created_unix_ms: 0, default_label: None, owner: "o".into() })
        .unwrap();
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                for i in 0..PUTS / threads {
                    let mut w = store.blob_writer().unwrap();
                    w.write_all(&[0x5a; 64]).unwrap();
                    let blob = w.finish().unwrap();
                    if max_batch.is_none() {
                        continue;
                    }
                    let meta = ObjectMeta {
                        blob,
                        size: 64,
                        stored_size: 64,
                        etag: format!("{t}-{i}"),
                        last_modified_unix_ms: 0,
                        content_type: None,
                        user_metadata: BTreeMap::new(),
                        label: "{}".into(),
                        label_marking: "U".into(),
                        client_ztdf: false,
                        parts: 0,
                        owner: "o".into(),
                    };
                    store.put_object("b", &format!("t{t}/k{i}"), meta, Precondition::None).unwrap();
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = start.elapsed();
    (elapsed, store.commit_stats())
}

fn main() {
    println!("{PUTS} durable puts of a 64-byte blob per row; best of 2 interleaved runs");
    println!(
        "{:>7}  {:>12}  {:>10}  {:>14}  {:>7}  {:>17}",
        "threads", "group put/s", "mean batch", "batch=1 put/s", "ratio", "blob fsync only/s"
    );
    for threads in [1, 4, 16, 64] {
        let (mut group, mut single, mut floor) = (Duration::MAX, Duration::MAX, Duration::MAX);
        let mut batch = 0.0;
        for _ in 0..2 {
            let (d, stats) = run(threads, Some(StoreOptions::default().max_batch));
            if d < group {
                group = d;
                // The bucket creation is one more transaction of one operation.
                batch = (stats.operations - 1) as f64 / (stats.transactions - 1) as f64;
            }
            single = single.min(run(threads, Some(1)).0);

            floor = floor.min(run(threads, None).0);
        }
        let rate = |d: Duration| PUTS as f64 / d.as_secs_f64();
        println!(
            "{threads:>7}  {:>12.0}  {batch:>10.1}  {:>14.0}  {:>6.2}x  {:>17.0}",
            rate(group),
            rate(single),
            single.as_secs_f64() / group.as_secs_f64(),
            rate(floor),
        );
    }
}
