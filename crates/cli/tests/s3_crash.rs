//! Crash test of the object service: rounds of concurrent PUTs cut by `kill -9`. After every restart each
//! acknowledged object reads back byte-identical, the store holds exactly one blob per object (no orphan
//! survives a start), and `redoubt audit verify` passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::print_stdout)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redoubt_testkit::{Credential, TestNode, redoubt_command};
use sha2::{Digest, Sha256};

const ROUNDS: usize = 50;
const WRITERS: usize = 4;
const LABEL: &str = r#"{"v":1,"pol":"NATO","puri":"urn:oid:1.3.26.1.3.1","cls":"CONFIDENTIAL","cats":[{"t":"Releasable To","k":"P","v":["FRA"]}],"cre":"2025-01-01T09:00:00Z","rev":"2030-01-01T00:00:00Z"}"#;

/// An acknowledged object: its key and the SHA-256 of its bytes.
type Acked = (String, [u8; 32]);

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: deterministic, seeded per round, so a failure can be replayed.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn identity(node: &TestNode, out: &Path) -> Credential {
    node.create_identity(out, "crash-writer", "writer", "SECRET", "FRA");
    Credential::Files { cert: out.join("crash-writer.pem"), key: out.join("crash-writer.key") }
}

fn blob_files(data_dir: &Path) -> usize {
    let mut n = 0;
    for shard in std::fs::read_dir(data_dir.join("store/blobs")).unwrap() {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            n += std::fs::read_dir(shard).unwrap().count();
        }
    }
    n
}

fn listed(node: &TestNode, cred: &Credential) -> usize {
    let client = node.client(cred);
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{}/crash?list-type=2&max-keys=1000", node.url);
        if let Some(t) = &token {
            url.push_str(&format!("&continuation-token={t}"));
        }
        let text = client.get(&url).send().unwrap().text().unwrap();
        count += text.matches("<Key>").count();
        match text.split_once("<NextContinuationToken>") {
            Some((_, rest)) => token = Some(rest.split_once('<').unwrap().0.to_owned()),
            None => return count,
        }
    }
}

#[test]
fn kill_9_during_concurrent_puts_loses_no_acknowledged_object() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut node = TestNode::start_in(&data, &[]).unwrap();
    let cred = identity(&node, dir.path());
    let client = node.client(&cred);
    let resp = client.put(format!("{}/crash", node.url)).send().unwrap();
    assert_eq!(resp.status(), 200, "create bucket: {}", resp.text().unwrap());

    let acked: Arc<Mutex<Vec<Acked>>> = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut cut_in_flight = 0usize;
    for round in 0..ROUNDS {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (round as u64 + 1));
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(0usize));
        let mut writers = Vec::new();
        for t in 0..WRITERS {
            let client = node.client(&cred);
            let url = node.url.clone();
            let acked = acked.clone();
            let stop = stop.clone();
            let failures = failures.clone();
            let mut rng = Rng(rng.next() | 1);
            writers.push(std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("r{round:02}-t{t}-{i:04}");
                    let len = 1 + rng.below(48 * 1024) as usize;
                    let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                    let sha: [u8; 32] = Sha256::digest(&body).into();
                    let sent = client
                        .put(format!("{url}/crash/{key}"))
                        .header("x-amz-meta-redoubt-label", LABEL)
                        .body(body)
                        .send();
                    match sent {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().push((key, sha)),
                        Ok(r) => {
                            panic!("PUT {key} answered {}: {}", r.status(), r.text().unwrap_or_default())
                        }
                        // The node was killed under this request: not acknowledged, nothing promised.
                        Err(_) => {
                            *failures.lock().unwrap() += 1;
                            return;
                        }
                    }
                    i += 1;
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(20 + rng.below(150)));
        node.signal("KILL");
        let _ = node.wait_exit(Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        cut_in_flight += *failures.lock().unwrap();

        node = TestNode::start_in(&data, &[]).unwrap();
        let expected = acked.lock().unwrap().clone();
        // Every acknowledged object, in parallel readers.
        let chunks: Vec<Vec<(String, [u8; 32])>> =
            expected.chunks(expected.len().div_ceil(WRITERS).max(1)).map(<[_]>::to_vec).collect();
        let readers: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let client = node.client(&cred);
                let url = node.url.clone();
                std::thread::spawn(move || {
                    for (key, sha) in chunk {
                        let r = client.get(format!("{url}/crash/{key}")).send().unwrap();
                        assert_eq!(r.status(), 200, "round {round}: acknowledged object {key} is missing");
                        let got: [u8; 32] = Sha256::digest(r.bytes().unwrap()).into();
                        assert_eq!(got, sha, "round {round}: acknowledged object {key} differs");
                    }
                })
            })
            .collect();
        for r in readers {
            r.join().unwrap();
        }
        let objects = listed(&node, &cred);
        assert!(
            objects >= expected.len(),
            "round {round}: {objects} objects listed, {} acknowledged",
            expected.len()
        );
        assert_eq!(
            blob_files(&data),
            objects,
            "round {round}: one blob per object, no orphan left after the start"
        );
        let verify = redoubt_command().args(["audit", "verify", "--data-dir"]).arg(&data).output().unwrap();
        assert!(
            verify.status.success(),
            "round {round}: audit verify failed: {}{}",
            String::from_utf8_lossy(&verify.stdout),
            String::from_utf8_lossy(&verify.stderr)
        );
    }
    println!(
        "{ROUNDS} rounds in {:.1} s: {} acknowledged objects all intact, {cut_in_flight} PUTs cut by kill -9",
        started.elapsed().as_secs_f64(),
        acked.lock().unwrap().len()
    );
    assert!(cut_in_flight > 0, "no PUT was ever in flight at a kill: the test did not test anything");
}
