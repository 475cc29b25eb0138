//! FMV relay benchmark (issue 7): added latency per relay hop and CPU per stream, 20 streams of 8 Mbit/s on
//! loopback, the node against GStreamer's `udpsrc ! udpsink` measured in the same run with the same load.
//!
//! One sender thread paces 20 streams × 8 Mbit/s of 1316-byte datagrams (7 TS packets of a private PID, 0x0100,
//! continuity counters kept) to the relay under test. The first packet's payload carries the stream index, a
//! sequence number and the send time (nanoseconds of a monotonic clock shared with the receivers, read just before
//! `send_to`). One receiver thread per stream reads its subscriber's datagrams and takes latency = receive time −
//! send time, so every figure includes the same sender and receiver costs; the direct row (no relay) is that floor.
//! Loss counts distinct sequence numbers sent during the measurement and never received.
//!
//! Relays, one after the other with identical load (warm-up 1 s, then the measurement):
//! - direct: the sender writes to the receivers' ports (the floor);
//! - GStreamer, 20 processes `gst-launch-1.0 -q udpsrc address=127.0.0.1 port=P ! udpsink host=127.0.0.1 port=Q`
//!   (defaults), and the same with `udpsrc buffer-size=4194304` and `udpsink sync=false async=false` (its best);
//! - the node: a real `redoubt up` with 20 configured `[[fmv.streams]]`, each with one UDP subscriber created
//!   over the mTLS API (`POST /fmv/streams/{id}/subscribers`). The node also demultiplexes every stream for its
//!   telemetry (the analysis thread): that cost is counted, as it is part of the relay.
//!
//! CPU per stream: the relay processes' CPU time (`/proc/PID/task/*/schedstat`, nanoseconds, every thread; summed
//! over the 20 GStreamer processes) over the measurement, divided by its wall time and by 20 streams.
//! Goals: p99 latency ≤ 1.2 × GStreamer's, CPU per stream ≤ 1.0 × GStreamer's. The SRT half of the issue is not
//! built yet and is not measured here.
//!
//! The peer is not a dependency of the test suite: install it with
//! `apt-get install -y gstreamer1.0-tools gstreamer1.0-plugins-good`; without `gst-launch-1.0` the program says so
//! and exits 0.
//!
//! Run: `cargo bench -p redoubt-cli --bench fmv_relay` (3 rounds, 10 s per relay and round; `-- --quick` for 3 s).
//! Each round measures the four relays in turn; the verdicts use the median ratio over the rounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program fails loudly"
)]

use std::net::UdpSocket;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redoubt_testkit::{Credential, TestNode};
use serde_json::json;

const STREAMS: usize = 20;
const BITRATE: f64 = 8_000_000.0;
const TS: usize = 188;
const DATAGRAM: usize = 7 * TS;
const PID: u16 = 0x0100;
const WARMUP: Duration = Duration::from_secs(1);
/// Payload offset of the stamp in the first packet: after the 4-byte TS header.
const STAMP: usize = 4;

/// The sending time base shared by the sender and the receivers.
fn ns_since(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

/// A datagram of 7 TS packets of `PID`, payload only, continuity counters `cc..cc+7`, filled with 0xFF.
fn datagram_template() -> Vec<u8> {
    let mut d = vec![0xFFu8; DATAGRAM];
    for p in 0..7 {
        let h = &mut d[p * TS..p * TS + 4];
        h[0] = 0x47;
        h[1] = 0x40 | (PID >> 8) as u8; // payload unit start, PID high bits
        h[2] = (PID & 0xFF) as u8;
        h[3] = 0x10; // payload only, cc set per send
    }
    d
}

/// `STREAMS` distinct free loopback ports. The sockets are held until all are drawn: a port drawn and released one
/// at a time can come back twice, and two `udpsrc` (which binds with address reuse) on one port mix two streams.
fn free_udp_ports() -> Vec<u16> {
    let held: Vec<UdpSocket> = (0..STREAMS).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    held.iter().map(|s| s.local_addr().unwrap().port()).collect()
}

/// The GStreamer processes of one measurement, killed when dropped (also when the program fails).
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One stream's receiver: its socket and what it measured.
struct Receiver {
    socket: UdpSocket,
    port: u16,
}

impl Receiver {
    fn new() -> Receiver {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let port = socket.local_addr().unwrap().port();
        Receiver { socket, port }
    }
}

/// Figures of one relay.
struct Figures {
    p50_us: f64,
    p99_us: f64,
    max_us: f64,
    loss: f64,
    /// CPU per stream, in % of one core.
    cpu_pct: Option<f64>,
    received: u64,
}

/// Sends the load to `targets` (one port per stream) and collects it at `receivers`, measuring for `duration`
/// after the warm-up; `cpu` reads the relay's CPU time so far.
fn measure(
    targets: &[u16],
    receivers: Vec<Receiver>,
    duration: Duration,
    cpu: &dyn Fn() -> Option<Duration>,
) -> Figures {
    let base = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    // Datagrams sent at or after this time (ns since `base`) are measured; u64::MAX until the warm-up ends.
    let measure_from = Arc::new(AtomicU64::new(u64::MAX));
    let seen: Vec<Arc<AtomicU64>> = (0..STREAMS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let mut handles = Vec::new();
    for (i, r) in receivers.into_iter().enumerate() {
        let (stop, measure_from, seen) = (stop.clone(), measure_from.clone(), seen[i].clone());
        handles.push(std::thread::spawn(move || {
            let mut latencies: Vec<u64> = Vec::with_capacity(1 << 14);
            let mut seqs: Vec<u64> = Vec::with_capacity(1 << 14);
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::Relaxed) {
                let Ok(n) = r.socket.recv(&mut buf) else { continue };
                let now = ns_since(base);
                seen.fetch_add(1, Ordering::Relaxed);
                if n != DATAGRAM {
                    continue;
                }
                let stamp = &buf[STAMP..STAMP + 24];
                let stream = u64::from_le_bytes(stamp[0..8].try_into().unwrap());
                let seq = u64::from_le_bytes(stamp[8..16].try_into().unwrap());
                let sent = u64::from_le_bytes(stamp[16..24].try_into().unwrap());
                assert_eq!(stream, i as u64, "a datagram of another stream arrived");
                if sent >= measure_from.load(Ordering::Relaxed) {
                    latencies.push(now.saturating_sub(sent));
                    seqs.push(seq);
                }
            }
            seqs.sort_unstable();
            seqs.dedup();
            (latencies, seqs.len() as u64)
        }));
    }

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut template = datagram_template();
    let mut cc = [0u8; STREAMS];
    let mut seq = [0u64; STREAMS];
    let send = |i: usize, template: &mut Vec<u8>, cc: &mut [u8; STREAMS], seq: &mut [u64; STREAMS]| {
        for p in 0..7 {
            template[p * TS + 3] = 0x10 | (cc[i] & 0x0F);
            cc[i] = cc[i].wrapping_add(1);
        }
        template[STAMP..STAMP + 8].copy_from_slice(&(i as u64).to_le_bytes());
        template[STAMP + 8..STAMP + 16].copy_from_slice(&seq[i].to_le_bytes());
        seq[i] += 1;
        let now = ns_since(base);
        template[STAMP + 16..STAMP + 24].copy_from_slice(&now.to_le_bytes());
        // A refused send (nobody bound yet) is loss, not an error.
        let _ = socket.send_to(template, ("127.0.0.1", targets[i]));
    };

    // Readiness: a datagram to every stream every 20 ms until every receiver has seen one (relays start).
    let ready_deadline = Instant::now() + Duration::from_secs(15);
    while seen.iter().any(|s| s.load(Ordering::Relaxed) == 0) {
        assert!(Instant::now() < ready_deadline, "a relay never forwarded its first datagram");
        for i in 0..STREAMS {
            send(i, &mut template, &mut cc, &mut seq);
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // The paced load: datagram k (all streams interleaved) is due at k / rate.
    let per_stream = BITRATE / (DATAGRAM * 8) as f64;
    let interval = Duration::from_secs_f64(1.0 / (per_stream * STREAMS as f64));
    let start = Instant::now();
    let warm_end = start + WARMUP;
    let end = warm_end + duration;
    let mut sent_from: Option<[u64; STREAMS]> = None;
    let mut cpu_from = None;
    let mut k: u64 = 0;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if sent_from.is_none() && now >= warm_end {
            sent_from = Some(seq);
            cpu_from = cpu().map(|c| (c, Instant::now()));
            measure_from.store(ns_since(base), Ordering::Relaxed);
        }
        while start + interval.mul_f64(k as f64) <= now {
            send((k % STREAMS as u64) as usize, &mut template, &mut cc, &mut seq);
            k += 1;
        }
        let next = start + interval.mul_f64(k as f64);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let cpu_pct = cpu_from.and_then(|(c0, t0)| {
        let c1 = cpu()?;
        let wall = t0.elapsed().as_secs_f64();
        Some((c1 - c0).as_secs_f64() / wall / STREAMS as f64 * 100.0)
    });
    let sent_from = sent_from.unwrap();
    // Stragglers.
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let (mut expected, mut received) = (0u64, 0u64);
    for (i, h) in handles.into_iter().enumerate() {
        let (lat, distinct) = h.join().unwrap();
        all.extend(lat);
        received += distinct;
        expected += seq[i] - sent_from[i];
    }
    all.sort_unstable();
    let pct = |p: f64| {
        if all.is_empty() {
            f64::NAN
        } else {
            all[((all.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
        }
    };
    Figures {
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        max_us: pct(1.0),
        loss: 1.0 - received as f64 / expected as f64,
        cpu_pct,
        received,
    }
}

/// CPU time of every thread of the processes so far (`/proc/PID/task/*/schedstat`, nanoseconds).
fn processes_cpu(pids: &[u32]) -> Duration {
    let mut ns: u64 = 0;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
                ns += text.split_whitespace().next().and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(ns)
}

fn direct(duration: Duration) -> Figures {
    let receivers: Vec<Receiver> = (0..STREAMS).map(|_| Receiver::new()).collect();
    let targets: Vec<u16> = receivers.iter().map(|r| r.port).collect();
    measure(&targets, receivers, duration, &|| None)
}

/// The GStreamer pipeline of one stream, as run (the arguments after `gst-launch-1.0`).
fn gst_args(tuned: bool, src: u16, dst: u16) -> Vec<String> {
    let mut a =
        vec!["-q".to_owned(), "udpsrc".to_owned(), "address=127.0.0.1".to_owned(), format!("port={src}")];
    if tuned {
        a.push("buffer-size=4194304".to_owned());
    }
    a.extend(["!".to_owned(), "udpsink".to_owned(), "host=127.0.0.1".to_owned(), format!("port={dst}")]);
    if tuned {
        a.extend(["sync=false".to_owned(), "async=false".to_owned()]);
    }
    a
}

fn gstreamer(tuned: bool, duration: Duration) -> Figures {
    let receivers: Vec<Receiver> = (0..STREAMS).map(|_| Receiver::new()).collect();
    let targets = free_udp_ports();
    let children = Children(
        targets
            .iter()
            .zip(&receivers)
            .map(|(src, r)| {
                Command::new("gst-launch-1.0")
                    .args(gst_args(tuned, *src, r.port))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let pids: Vec<u32> = children.0.iter().map(Child::id).collect();
    measure(&targets, receivers, duration, &|| Some(processes_cpu(&pids)))
}

struct NodeRelay {
    node: TestNode,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
}

fn start_node() -> NodeRelay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::new();
    let ports = free_udp_ports();
    for (i, port) in ports.iter().enumerate() {
        config.push_str(&format!(
            "[[fmv.streams]]\nid = \"s{i}\"\nlisten = \"udp://127.0.0.1:{port}\"\nclassification = \"CONFIDENTIAL\"\n\n"
        ));
    }
    let config_path = dir.path().join("node.toml");
    std::fs::write(&config_path, config).unwrap();
    let node =
        TestNode::start_in(&dir.path().join("data"), &["--config", config_path.to_str().unwrap()]).unwrap();
    let ids = dir.path().join("ids");
    std::fs::create_dir(&ids).unwrap();
    node.create_identity(&ids, "alice", "reader", "SECRET", "FRA");
    NodeRelay { node, dir, ports }
}

fn node_relay(relay: &NodeRelay, duration: Duration) -> Figures {
    let ids = relay.dir.path().join("ids");
    let credential = Credential::Files { cert: ids.join("alice.pem"), key: ids.join("alice.key") };
    let client = relay.node.client(&credential);
    let receivers: Vec<Receiver> = (0..STREAMS).map(|_| Receiver::new()).collect();
    let mut subs = Vec::new();
    for (i, r) in receivers.iter().enumerate() {
        let resp = client
            .post(format!("{}/fmv/streams/s{i}/subscribers", relay.node.url))
            .json(&json!({"destination": format!("udp://127.0.0.1:{}", r.port), "lease_secs": 600}))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 201, "{:?}", resp.text());
        let body: serde_json::Value = resp.json().unwrap();
        subs.push(body["subscriber"].as_u64().unwrap());
    }
    let pid = relay.node.pid();
    let figures = measure(&relay.ports, receivers, duration, &|| Some(processes_cpu(&[pid])));
    // The node's own count of what its subscribers lost to their queues (a slow-subscriber drop, not the network).
    let mut drops = 0;
    for (i, sub) in subs.iter().enumerate() {
        let doc: serde_json::Value =
            relay.node.get(&credential, &format!("/fmv/streams/s{i}")).unwrap().json().unwrap();
        drops += doc["stats"]["subscriber_drops"].as_u64().unwrap_or(0);
        let resp =
            client.delete(format!("{}/fmv/streams/s{i}/subscribers/{sub}", relay.node.url)).send().unwrap();
        assert!(resp.status().is_success(), "ending subscriber {sub}: {}", resp.status());
    }
    if drops > 0 {
        println!("  (node: {drops} datagrams dropped by lagging subscriber queues)");
    }
    figures
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let duration = Duration::from_secs(if quick { 3 } else { 10 });
    let rounds = 3;
    if Command::new("gst-launch-1.0").arg("--version").output().is_err() {
        println!(
            "fmv_relay: gst-launch-1.0 not found, nothing measured: the peer is GStreamer's udpsrc ! udpsink \
             (apt-get install -y gstreamer1.0-tools gstreamer1.0-plugins-good)"
        );
        return;
    }
    let version = Command::new("gst-launch-1.0").arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    println!(
        "FMV relay, {STREAMS} streams x {:.0} Mbit/s of {DATAGRAM}-byte datagrams on loopback, {} s per relay after \
         {} s warm-up ({})",
        BITRATE / 1e6,
        duration.as_secs(),
        WARMUP.as_secs(),
        version.lines().next().unwrap_or("gst-launch-1.0")
    );
    println!("peer pipeline (best): gst-launch-1.0 {}", gst_args(true, 5000, 6000).join(" "));
    let node = start_node();
    println!("node pid {} (to profile: perf record -e cpu-clock -g -p PID)", node.node.pid());
    let names = ["direct (no relay)", "gstreamer, defaults", "gstreamer, tuned", "redoubt node"];
    let mut ratios: Vec<[f64; 4]> = Vec::new();
    for round in 1..=rounds {
        // Alternating order within a run of the same load: a burst of machine load hits every relay alike.
        let rows = [
            direct(duration),
            gstreamer(false, duration),
            gstreamer(true, duration),
            node_relay(&node, duration),
        ];
        println!("round {round}/{rounds}");
        println!(
            "  {:<22} {:>9} {:>9} {:>10} {:>8} {:>12} {:>10}",
            "relay", "p50 µs", "p99 µs", "max µs", "loss %", "CPU %/stream", "received"
        );
        for (name, f) in names.iter().zip(&rows) {
            println!(
                "  {:<22} {:>9.0} {:>9.0} {:>10.0} {:>8.3} {:>12} {:>10}",
                name,
                f.p50_us,
                f.p99_us,
                f.max_us,
                f.loss * 100.0,
                f.cpu_pct.map_or("-".to_owned(), |c| format!("{c:.3}")),
                f.received
            );
        }
        let redoubt = &rows[3];
        let mut r = [0.0; 4];
        for (j, gst) in [&rows[1], &rows[2]].into_iter().enumerate() {
            r[2 * j] = redoubt.p99_us / gst.p99_us;
            r[2 * j + 1] = redoubt.cpu_pct.unwrap() / gst.cpu_pct.unwrap();
            println!(
                "  node / {}: p99 {:.2}, p50 {:.2}, CPU per stream {:.2}",
                names[j + 1],
                r[2 * j],
                redoubt.p50_us / gst.p50_us,
                r[2 * j + 1]
            );
        }
        ratios.push(r);
    }
    let median = |j: usize| {
        let mut v: Vec<f64> = ratios.iter().map(|r| r[j]).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let verdict = |x: f64, goal: f64| if x <= goal { "met" } else { "NOT met" };
    for (j, name) in [(0, names[1]), (1, names[2])] {
        let (p99, cpu) = (median(2 * j), median(2 * j + 1));
        println!(
            "median over {rounds} rounds, node / {name}: p99 {p99:.2} (goal <= 1.2: {}), CPU per stream {cpu:.2} \
             (goal <= 1.0: {})",
            verdict(p99, 1.2),
            verdict(cpu, 1.0)
        );
    }
}
