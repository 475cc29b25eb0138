//! KAS rewrap benchmark: the node's `POST /kas/v2/rewrap` at 32 concurrent clients, for an EC P-256 and an
//! RSA-2048 KAS key, against the raw cost of the same operations measured in the same run (one unwrap through the
//! file key custody plus one rewrap to an EC P-256 client session key, in process, no I/O).
//!
//! Each client thread holds one HTTPS (mutual TLS) connection and sends requests back to back; every request has
//! its own signed request token (ES256 with the identity's key) and one key access object, and every released
//! share is opened and checked. The client runs on the same two cores as the node: its signing, ECDH and TLS
//! work is counted against the service. Timings are printed, never asserted.
//!
//! Also printed: a bulk run (8 key access objects per request, the v2 body) with the node's CPU per object, and the
//! transport floor: the node's CPU per authenticated `GET /kas/v2/kas_public_key` on the same connections (no
//! crypto, no decision, no audit), which every rewrap pays as well.
//!
//! Run: `cargo bench -p redoubt-cli --bench kas` (`-- --quick` for a quarter of the requests, `-- --only ec` or
//! `-- --only rsa` for one key type).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program fails loudly"
)]

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use redoubt_custody::{Algorithm, FileCustody, Kek, KeyCustody};
use redoubt_kas::{
    ClientKey, ClientKeyKind, ClientSession, KaoRequest, PolicyRef, PolicyRequest, RequestBody,
    RewrapResponse, Rewrapper, SigningKey,
};
use redoubt_testkit::{Credential, TestNode, redoubt_command};
use redoubt_ztdf::{KasTarget, KeyShare, SystemRandomSource, TdfReader};

const CLIENTS: usize = 32;
/// Key access objects per request in the bulk run (the v2 body; a client opening several objects at once).
const BULK: usize = 8;
const LABEL: &str = r#"<originatorConfidentialityLabel xmlns="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0" ReviewDateTime="2030-01-01T00:00:00Z"><ConfidentialityInformation><PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</PolicyIdentifier><Classification>CONFIDENTIAL</Classification><Category TagName="Releasable To" Type="PERMISSIVE" URI="urn:oid:1.3.26.1.4.2"><GenericValue>FRA</GenericValue></Category></ConfidentialityInformation><CreationDateTime>2025-01-01T09:00:00Z</CreationDateTime></originatorConfidentialityLabel>"#;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The raw cost of one rewrap's crypto: custody unwrap + rewrap to a fresh EC session, per operation: the p50
/// wall time and the mean CPU time of the thread (which a busy machine's preemption does not inflate).
fn raw_cost(alg: Algorithm, n: usize) -> (Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let (custody, _) = FileCustody::open(dir.path(), Kek::from_bytes([7u8; 32])).unwrap();
    custody.ensure_defaults(0).unwrap();
    let info = custody.current(alg).unwrap();
    let (key, _) = custody.public_key(&info.kid).unwrap();
    let rng = SystemRandomSource::new();
    let share = KeyShare::random(&rng).unwrap();
    let target =
        KasTarget { url: "https://kas.bench/kas".into(), key, kid: Some(info.kid.clone()), sid: None };
    let kao = redoubt_ztdf::wrap_key_access(&share, &target, None, "cG9saWN5", None, &rng).unwrap();
    let session = ClientSession::generate(ClientKeyKind::EcP256, &rng).unwrap();
    let client_key = ClientKey::from_pem(&session.public_pem()).unwrap();
    let mut times = Vec::with_capacity(n);
    let cpu_before = thread_cpu();
    for _ in 0..n {
        let t = Instant::now();
        let s = custody.unwrap(&info.kid, &kao).unwrap();
        let rewrapper = Rewrapper::new(&client_key, &rng).unwrap();
        std::hint::black_box(rewrapper.rewrap(&s).unwrap());
        times.push(t.elapsed());
    }
    let cpu = (thread_cpu() - cpu_before) / n as u32;
    times.sort();
    (percentile(&times, 0.5), cpu)
}

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, nanoseconds).
fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    Duration::from_nanos(text.split_whitespace().next().unwrap().parse().unwrap())
}

/// Mean cost of the in-process pieces of one EC rewrap request besides the raw crypto, per operation: what the
/// node does for every request before it can unwrap (token signature and freshness, body, client key).
fn pieces(n: usize) {
    let rng = SystemRandomSource::new();
    let signer_pem = {
        let der = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &aws_lc_rs::rand::SystemRandom::new(),
        )
        .unwrap();
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, der.as_ref());
        format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n")
    };
    let signer = SigningKey::from_pkcs8_pem(&signer_pem).unwrap();
    let spki = signer.public_spki_der().unwrap();
    let session = ClientSession::generate(ClientKeyKind::EcP256, &rng).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (custody, _) = FileCustody::open(dir.path(), Kek::from_bytes([7u8; 32])).unwrap();
    custody.ensure_defaults(0).unwrap();
    let info = custody.current(Algorithm::EcP256).unwrap();
    let (kas_key, _) = custody.public_key(&info.kid).unwrap();
    let target =
        KasTarget { url: "https://kas.bench/kas".into(), key: kas_key, kid: Some(info.kid), sid: None };
    let share = KeyShare::random(&rng).unwrap();
    let kao = redoubt_ztdf::wrap_key_access(&share, &target, None, "cG9saWN5", None, &rng).unwrap();
    let body = RequestBody {
        client_public_key: session.public_pem(),
        requests: vec![PolicyRequest {
            policy: PolicyRef { id: "00000000-0000-4000-8000-000000000000".into(), body: "cG9saWN5".into() },
            key_access_objects: vec![KaoRequest { id: "kao-0".into(), key_access_object: kao }],
            algorithm: None,
        }],
    }
    .to_json()
    .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let tokens: Vec<String> =
        (0..n).map(|_| redoubt_kas::sign_request_token(&body, &signer, now).unwrap()).collect();
    let rules = redoubt_kas::TokenRules::default();
    let time = |f: &mut dyn FnMut(usize)| {
        let t = Instant::now();
        for i in 0..n {
            f(i);
        }
        us(t.elapsed()) / n as f64
    };
    let key_parse = time(&mut |_| {
        std::hint::black_box(redoubt_kas::SignerKey::from_spki_der(&spki).unwrap());
    });
    let key = redoubt_kas::SignerKey::from_spki_der(&spki).unwrap();
    let verify = time(&mut |i| {
        std::hint::black_box(redoubt_kas::verify_request_token(&tokens[i], &key, &rules, now).unwrap());
    });
    let parse = time(&mut |_| {
        let b = RequestBody::parse(&body).unwrap();
        std::hint::black_box(ClientKey::from_pem(&b.client_public_key).unwrap());
    });
    let sign = time(&mut |_| {
        std::hint::black_box(redoubt_kas::sign_request_token(&body, &signer, now).unwrap());
    });
    println!(
        "per request, besides the raw crypto: signer key from SPKI {key_parse:.1} µs, token verify {verify:.1} µs, \
         body + client key parse {parse:.1} µs (client side: token signing {sign:.1} µs)"
    );
}

struct Service {
    rps: f64,
    p50: Duration,
    p99: Duration,
    /// The node process's CPU time (all threads) per request: the service's own cost, client excluded.
    server_cpu: Duration,
}

/// CPU time of every thread of a process so far (`/proc/PID/task/*/schedstat`, nanoseconds).
fn process_cpu(pid: u32) -> Duration {
    let mut ns: u64 = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
            ns += text.split_whitespace().next().and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// `clients` threads each sending `per_client` rewrap requests of `kaos` key access objects (the file's one,
/// repeated under distinct ids: each is unwrapped, decided, audited and rewrapped on its own).
fn service(
    node: &TestNode,
    ids: &Path,
    tdf: &Path,
    clients: usize,
    per_client: usize,
    kaos: usize,
) -> Service {
    let reader = TdfReader::open(std::fs::File::open(tdf).unwrap()).unwrap();
    let ei = reader.manifest().encryption_information.clone();
    let policy = reader.policy().unwrap();
    let key_pem = std::fs::read_to_string(ids.join("alice.key")).unwrap();
    let url = format!("{}/kas/v2/rewrap", node.url);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut handles = Vec::new();
    for _ in 0..clients {
        let client =
            node.client(&Credential::Files { cert: ids.join("alice.pem"), key: ids.join("alice.key") });
        let (ei, policy, key_pem, url, barrier) =
            (ei.clone(), policy.clone(), key_pem.clone(), url.clone(), barrier.clone());
        handles.push(std::thread::spawn(move || {
            let signer = SigningKey::from_pkcs8_pem(&key_pem).unwrap();
            let rng = SystemRandomSource::new();
            let session = ClientSession::generate(ClientKeyKind::EcP256, &rng).unwrap();
            let body = RequestBody {
                client_public_key: session.public_pem(),
                requests: vec![PolicyRequest {
                    policy: PolicyRef { id: policy.uuid.clone(), body: ei.policy.clone() },
                    key_access_objects: (0..kaos)
                        .map(|i| KaoRequest {
                            id: format!("kao-{i}"),
                            key_access_object: ei.key_access[0].clone(),
                        })
                        .collect(),
                    algorithm: None,
                }],
            }
            .to_json()
            .unwrap();
            let mut times = Vec::with_capacity(per_client);
            barrier.wait();
            for _ in 0..per_client {
                let t = Instant::now();
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let token = redoubt_kas::sign_request_token(&body, &signer, now).unwrap();
                let resp =
                    client.post(&url).json(&serde_json::json!({"signedRequestToken": token})).send().unwrap();
                assert_eq!(resp.status(), 200);
                let parsed = RewrapResponse::parse(&resp.text().unwrap()).unwrap();
                let results = session.open_results(&parsed);
                assert_eq!(results.len(), kaos);
                assert!(results.iter().all(|r| r.share.is_ok()), "a rewrap was refused");
                times.push(t.elapsed());
            }
            times
        }));
    }
    barrier.wait();
    let started = Instant::now();
    let cpu_before = process_cpu(node.pid());
    let mut all: Vec<Duration> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let wall = started.elapsed();
    let server = process_cpu(node.pid()) - cpu_before;
    all.sort();
    Service {
        rps: all.len() as f64 / wall.as_secs_f64(),
        p50: percentile(&all, 0.5),
        p99: percentile(&all, 0.99),
        server_cpu: server / all.len() as u32,
    }
}

/// The node's CPU per request for the cheapest authenticated request on the same connections (`GET
/// /kas/v2/kas_public_key`, no crypto, no decision, no audit): the transport's floor (TLS records, HTTP,
/// authentication of the connection's identity, tokio, the kernel's loopback TCP), which every rewrap pays too.
fn transport_floor(node: &TestNode, ids: &Path, clients: usize, per_client: usize) -> Duration {
    let url = format!("{}/kas/v2/kas_public_key?algorithm=ec:secp256r1", node.url);
    let barrier = Arc::new(Barrier::new(clients + 1));
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let client =
                node.client(&Credential::Files { cert: ids.join("alice.pem"), key: ids.join("alice.key") });
            let (url, barrier) = (url.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for _ in 0..per_client {
                    let resp = client.get(&url).send().unwrap();
                    assert_eq!(resp.status(), 200);
                    std::hint::black_box(resp.text().unwrap());
                }
            })
        })
        .collect();
    barrier.wait();
    let cpu_before = process_cpu(node.pid());
    for h in handles {
        h.join().unwrap();
    }
    (process_cpu(node.pid()) - cpu_before) / (clients * per_client) as u32
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let per_client = if quick { 25 } else { 100 };
    let raw_n = if quick { 500 } else { 2000 };
    let dir = tempfile::tempdir().unwrap();
    let node = TestNode::start_in(&dir.path().join("data"), &[]).unwrap();
    let ids = dir.path().join("ids");
    std::fs::create_dir(&ids).unwrap();
    node.create_identity(&ids, "alice", "reader", "SECRET", "FRA");
    let (plain, label) = (dir.path().join("plain"), dir.path().join("label.xml"));
    std::fs::write(&plain, b"benchmark").unwrap();
    std::fs::write(&label, LABEL).unwrap();
    println!(
        "KAS rewrap, {CLIENTS} concurrent clients x {per_client} requests, mutual TLS, 1 key access object each"
    );
    println!(
        "{:<14} {:>9} {:>10} {:>10} {:>12} {:>12} {:>11} {:>11} {:>12} {:>11}",
        "key",
        "req/s",
        "p50 µs",
        "p99 µs",
        "raw p50 µs",
        "1-client p50",
        "p50/raw(1)",
        "cost/raw",
        "node CPU µs",
        "node/raw"
    );
    // `--only ec` or `--only rsa` runs one key type (for profiling the node during one of them).
    let args: Vec<String> = std::env::args().collect();
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    for (alg, name) in [(Algorithm::EcP256, "ec:secp256r1"), (Algorithm::Rsa2048, "rsa:2048")] {
        if only.as_deref().is_some_and(|o| !name.starts_with(o)) {
            continue;
        }
        let tdf = dir.path().join(format!("{}.tdf", name.replace(':', "-")));
        let out = redoubt_command()
            .args(["encrypt", "--kas", &format!("{}/kas", node.url), "--kas-algorithm", name, "--ca"])
            .arg(node.pki("ca.pem"))
            .arg("--cert")
            .arg(ids.join("alice.pem"))
            .arg("--key")
            .arg(ids.join("alice.key"))
            .arg("--label")
            .arg(&label)
            .arg(&plain)
            .arg(&tdf)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let (raw_p50, raw_cpu) = raw_cost(alg, raw_n);
        let single = service(&node, &ids, &tdf, 1, per_client, 1);
        let loaded = service(&node, &ids, &tdf, CLIENTS, per_client, 1);
        // With both cores busy, each request costs 2 / rps core-seconds (client work included).
        let cost = Duration::from_secs_f64(2.0 / loaded.rps);
        println!(
            "{:<14} {:>9.0} {:>10.0} {:>10.0} {:>12.0} {:>12.0} {:>11.2} {:>11.2} {:>12.0} {:>11.2}",
            name,
            loaded.rps,
            us(loaded.p50),
            us(loaded.p99),
            us(raw_p50),
            us(single.p50),
            us(single.p50) / us(raw_p50),
            us(cost) / us(raw_cpu),
            us(loaded.server_cpu),
            us(loaded.server_cpu) / us(raw_cpu),
        );
        let bulk = service(&node, &ids, &tdf, CLIENTS, per_client / 4, BULK);
        let per_kao = bulk.server_cpu / BULK as u32;
        println!(
            "{:<14} bulk: {BULK} key access objects per request, {:.0} req/s ({:.0} objects/s), p50 {:.0} µs; node CPU \
             per object {:.0} µs = {:.2} x raw",
            name,
            bulk.rps,
            bulk.rps * BULK as f64,
            us(bulk.p50),
            us(per_kao),
            us(per_kao) / us(raw_cpu),
        );
    }
    pieces(if quick { 500 } else { 2000 });
    let floor = transport_floor(&node, &ids, CLIENTS, per_client);
    println!(
        "transport floor: node CPU per authenticated GET /kas/v2/kas_public_key at {CLIENTS} clients {:.0} µs \
         (TLS, HTTP, identity, tokio, loopback TCP: paid by every rewrap too)",
        us(floor)
    );
    println!(
        "p50/raw(1): one client's p50 latency over the raw unwrap+rewrap p50; cost/raw: core time per request at 32 \
         clients (2 cores / req/s, client included) over the raw CPU time; node CPU: the node process's CPU time per \
         request at 32 clients (TLS, HTTP, token check, unwrap, decision, rewrap, audit), node/raw: that over the raw CPU time per operation"
    );
}
