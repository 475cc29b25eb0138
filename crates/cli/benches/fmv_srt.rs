//! FMV SRT relay benchmark (issue 7): latency through an SRT relay hop and CPU per stream, 20 streams of
//! 8 Mbit/s on loopback, the node against `srt-live-transmit` (libsrt's own relay tool) measured in the same run
//! with the same load and the same SRT endpoints at both ends.
//!
//! The load is `fmv_relay`'s (`fmv_common`): one sender thread paces 20 streams × 8 Mbit/s of stamped 1316-byte
//! datagrams, one receiver thread per stream takes latency = receive − send time and counts loss. The bench
//! speaks UDP; SRT is spoken by `srt-live-transmit` feeders, the same processes for every relay, so only the relay
//! differs:
//!
//! ```text
//! sender --udp--> front feeder --SRT--> RELAY --SRT--> back feeder --udp--> receiver
//!                 (udp in, SRT caller)   (listener in,  (SRT listener,
//!                                         caller out)    udp out)
//! ```
//!
//! Relays, one after the other with identical load (warm-up 1 s, then the measurement):
//! - direct: the front feeder calls the back feeder's listener (one SRT hop instead of two: the floor);
//! - `srt-live-transmit`, 20 processes `srt-live-transmit 'srt://127.0.0.1:P?mode=listener&latency=L'
//!   'srt://127.0.0.1:Q?mode=caller&latency=L&adapter=127.0.0.1'` (its defaults, which pass each message's source
//!   time on), and the same with `-st:no` (each message stamped when it is sent on, as the node does);
//! - the node: a real `redoubt up` with 20 `[[fmv.streams]]` `listen = "srt://127.0.0.1:P"`, `latency_ms = L`,
//!   each with one SRT subscriber to `srt://127.0.0.1:Q` created over the mTLS API. Its per-stream analysis thread
//!   (demultiplexing every datagram) is counted, as it is part of the relay;
//! - "UDP out": the same peer relay and node writing UDP straight to the receivers (`udp://127.0.0.1:R` as the
//!   peer's output, a UDP subscriber for the node), no back feeder: each relay's SRT ingest alone, one SRT hop.
//!
//! SRT's receiver holds every message until its latency window (TSBPD) has passed, so every SRT hop adds about
//! `L` plus the programs' own time: the direct and "UDP out" rows take one window, the SRT-out rows two. The p99
//! ratio of the issue's goal is diluted by those windows; the program also prints each relay's p50 above the
//! direct row's, which is what the relay and its second hop add. (Measured: the libsrt back feeder releases the
//! node's SRT output early, by as long as it had listened before the node called, because srt-tokio 0.4's caller
//! stamps its conclusion handshake with the listener's timestamp; so the node's SRT-out rows are lower than the
//! peer's for a reason that is not relay speed. See docs/benchmarks.md, "SRT relay against srt-live-transmit". The
//! UDP-out rows compare the ingest hop like for like.)
//!
//! CPU per stream: the relay processes' CPU time (`/proc/PID/task/*/schedstat`, every thread; summed over the 20
//! `srt-live-transmit` relay processes, never the feeders) over the measurement, divided by its wall time and by
//! 20 streams. Goals: p99 latency ≤ 1.2 × the peer's, CPU per stream ≤ 1.0 × the peer's.
//!
//! The peer is not a dependency of the test suite: install it with `apt-get install -y srt-tools`; without
//! `srt-live-transmit` the program says so and exits 0. Every SRT and UDP socket is on 127.0.0.1.
//!
//! Run: `cargo bench -p redoubt-cli --bench fmv_srt` (3 rounds, 10 s per relay and round; `-- --quick` for 3 s;
//! `-- --latency-ms N` for another window than 40 ms). `REDOUBT_BIN` picks the node binary. Each round measures
//! the six relays in turn; the verdicts use the median ratio over the rounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::indexing_slicing,
    reason = "a benchmark program fails loudly"
)]

mod fmv_common;

use std::collections::HashSet;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use fmv_common::{
    BITRATE, Children, DATAGRAM, Figures, Receiver, STREAMS, WARMUP, measure, median, print_rows,
    processes_cpu, verdict,
};
use redoubt_testkit::{Credential, TestNode};
use serde_json::json;

/// The peer program (Debian `srt-tools`).
const PEER: &str = "srt-live-transmit";
/// The SRT latency window of every hop, for everyone, unless `--latency-ms` says otherwise.
const DEFAULT_LATENCY_MS: u64 = 40;

/// The next port `ports` tries; starts below the kernel's ephemeral range (32768 and up on Linux).
static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// `n` distinct free loopback UDP ports below the ephemeral range, never the same twice in a run. Not
/// `fmv_common::free_udp_ports`: a port drawn from the ephemeral range and released can be taken, before its feeder
/// binds it, by the ephemeral local socket of another feeder's SRT caller (20 start at once), and the feeder then
/// fails to bind while its port looks bound.
fn ports(n: usize) -> Vec<u16> {
    let _ = NEXT_PORT.compare_exchange(
        0,
        20_000 + (std::process::id() % 4000) as u16,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    let mut held = Vec::new();
    while held.len() < n {
        let port = NEXT_PORT.fetch_add(1, Ordering::Relaxed);
        assert!(port < 32_768, "out of ports below the ephemeral range");
        if let Ok(s) = UdpSocket::bind(("127.0.0.1", port)) {
            held.push(s);
        }
    }
    held.iter().map(|s| s.local_addr().unwrap().port()).collect()
}

/// Where SRT sockets listen and call: loopback only.
fn listener(port: u16, latency_ms: u64) -> String {
    format!("srt://127.0.0.1:{port}?mode=listener&latency={latency_ms}")
}

/// A caller's URI; `adapter` binds its local socket to loopback too.
fn caller(port: u16, latency_ms: u64) -> String {
    format!("srt://127.0.0.1:{port}?mode=caller&latency={latency_ms}&adapter=127.0.0.1")
}

/// The arguments of one `srt-live-transmit` process (after the program name).
fn peer_args(extra: &[&str], input: String, output: String) -> Vec<String> {
    let mut a = vec!["-q".to_owned(), "-ll:error".to_owned()];
    a.extend(extra.iter().map(|s| (*s).to_owned()));
    a.extend([input, output]);
    a
}

/// Starts one `srt-live-transmit` per stream, `args(i)` its arguments; stderr goes to `logs/NAME-i.log`.
fn spawn(logs: &Path, name: &str, args: impl Fn(usize) -> Vec<String>) -> Children {
    Children(
        (0..STREAMS)
            .map(|i| {
                let log = std::fs::File::create(logs.join(format!("{name}-{i}.log"))).unwrap();
                Command::new(PEER)
                    .args(args(i))
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(log)
                    .spawn()
                    .unwrap()
            })
            .collect(),
    )
}

/// Waits until every port is bound by someone on 127.0.0.1 (`/proc/net/udp`), so a caller finds its listener and
/// the first datagrams find their feeder; a process of `children` that exits meanwhile stops the program.
fn wait_bound(ports: &[u16], children: &mut Children, logs: &Path, name: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let table = std::fs::read_to_string("/proc/net/udp").unwrap();
        let bound: HashSet<u16> = table
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter_map(|local| local.strip_prefix("0100007F:"))
            .filter_map(|port| u16::from_str_radix(port, 16).ok())
            .collect();
        for (i, c) in children.0.iter_mut().enumerate() {
            if let Some(status) = c.try_wait().unwrap() {
                let log = std::fs::read_to_string(logs.join(format!("{name}-{i}.log"))).unwrap_or_default();
                panic!("{PEER} {name}-{i} exited ({status}): {log}");
            }
        }
        if ports.iter().all(|p| bound.contains(p)) {
            return;
        }
        assert!(Instant::now() < deadline, "a feeder or relay never bound its port (see the logs)");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Asks the processes to end (SIGINT: `srt-live-transmit` closes its SRT connections, so a listener's peer sees
/// the caller leave at once) and waits up to 2 s; `Children`'s drop kills what is left.
fn interrupt(children: Children) {
    for c in &children.0 {
        // kill(1), not libc: the workspace forbids unsafe code.
        let _ = Command::new("kill").args(["-INT", &c.id().to_string()]).status();
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut children = children;
    for c in &mut children.0 {
        while c.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The settings of one run.
struct Run {
    duration: Duration,
    latency_ms: u64,
    logs: tempfile::TempDir,
}

impl Run {
    /// After the last send: two latency windows, plus the 300 ms of the UDP bench.
    fn stragglers(&self) -> Duration {
        Duration::from_millis(300 + 3 * self.latency_ms)
    }

    /// The back feeders: SRT listener on `q[i]` → UDP to receiver `i`.
    fn back(&self, q: &[u16], receivers: &[Receiver]) -> Children {
        let l = self.latency_ms;
        let mut children = spawn(self.logs.path(), "back", |i| {
            peer_args(&[], listener(q[i], l), format!("udp://127.0.0.1:{}", receivers[i].port))
        });
        wait_bound(q, &mut children, self.logs.path(), "back");
        children
    }

    /// The front feeders: UDP on `a[i]` → SRT caller to `to[i]`.
    fn front(&self, a: &[u16], to: &[u16]) -> Children {
        let l = self.latency_ms;
        let mut children = spawn(self.logs.path(), "front", |i| {
            peer_args(&[], format!("udp://127.0.0.1:{}", a[i]), caller(to[i], l))
        });
        wait_bound(a, &mut children, self.logs.path(), "front");
        children
    }
}

/// One SRT hop: front feeder → back feeder.
fn direct(run: &Run) -> Figures {
    let receivers = Receiver::all();
    let ports = ports(2 * STREAMS);
    let (a, q) = ports.split_at(STREAMS);
    let back = run.back(q, &receivers);
    let front = run.front(a, q);
    let figures = measure(a, receivers, run.duration, run.stragglers(), &|| None);
    interrupt(front);
    interrupt(back);
    figures
}

/// What a relay does with a stream: call the back feeder over SRT (the issue's case: a second SRT hop), or send it
/// to the receiver over UDP (the relay's SRT ingest alone, one SRT hop like the direct row).
#[derive(Clone, Copy, PartialEq)]
enum Out {
    Srt,
    Udp,
    /// The node's output in listener mode: the back feeder calls the node with its subscriber's stream id.
    SrtCalled,
}

/// The peer's relay arguments for stream `i`, to SRT listener `q` or UDP port `q` (`source_time`: its default;
/// otherwise `-st:no`).
fn relay_args(source_time: bool, out: Out, latency_ms: u64, p: u16, q: u16) -> Vec<String> {
    let extra: &[&str] = if source_time { &[] } else { &["-st:no"] };
    let output = match out {
        Out::Srt => caller(q, latency_ms),
        Out::Udp => format!("udp://127.0.0.1:{q}"),
        Out::SrtCalled => panic!("the peer relay has no listener-mode output row"),
    };
    peer_args(extra, listener(p, latency_ms), output)
}

/// Through 20 `srt-live-transmit` relays.
fn peer(run: &Run, source_time: bool, out: Out) -> Figures {
    let receivers = Receiver::all();
    let ports = ports(3 * STREAMS);
    let (a, rest) = ports.split_at(STREAMS);
    let (p, q) = rest.split_at(STREAMS);
    let (back, to): (Children, Vec<u16>) = match out {
        Out::Srt => (run.back(q, &receivers), q.to_vec()),
        Out::Udp => (Children(Vec::new()), receivers.iter().map(|r| r.port).collect()),
        Out::SrtCalled => panic!("the peer relay has no listener-mode output row"),
    };
    let mut relays =
        spawn(run.logs.path(), "relay", |i| relay_args(source_time, out, run.latency_ms, p[i], to[i]));
    wait_bound(p, &mut relays, run.logs.path(), "relay");
    let front = run.front(a, p);
    let pids = relays.pids();
    let figures = measure(a, receivers, run.duration, run.stragglers(), &|| Some(processes_cpu(&pids)));
    interrupt(front);
    interrupt(relays);
    interrupt(back);
    figures
}

/// A running node with 20 SRT streams.
struct NodeRelay {
    node: TestNode,
    dir: tempfile::TempDir,
    /// The streams' SRT listener ports.
    ports: Vec<u16>,
}

fn start_node(latency_ms: u64) -> NodeRelay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::new();
    let ports = ports(STREAMS);
    for (i, port) in ports.iter().enumerate() {
        config.push_str(&format!(
            "[[fmv.streams]]\nid = \"s{i}\"\nlisten = \"srt://127.0.0.1:{port}\"\nlatency_ms = {latency_ms}\n\
             classification = \"CONFIDENTIAL\"\n\n"
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

/// Datagrams (SRT messages) the node's streams have ingested so far.
fn ingested(relay: &NodeRelay, credential: &Credential) -> u64 {
    (0..STREAMS)
        .map(|i| {
            let doc: serde_json::Value =
                relay.node.get(credential, &format!("/fmv/streams/s{i}")).unwrap().json().unwrap();
            doc["stats"]["datagrams"].as_u64().unwrap_or(0)
        })
        .sum()
}

/// Two SRT hops through the node: front feeder → node's listener; node → back feeder's listener (a subscriber).
fn node_relay(relay: &NodeRelay, run: &Run, out: Out) -> Figures {
    let ids = relay.dir.path().join("ids");
    let credential = Credential::Files { cert: ids.join("alice.pem"), key: ids.join("alice.key") };
    let client = relay.node.client(&credential);
    let receivers = Receiver::all();
    let ports = ports(2 * STREAMS);
    let (a, q) = ports.split_at(STREAMS);
    let mut back = if out == Out::Srt { run.back(q, &receivers) } else { Children(Vec::new()) };
    let mut subs = Vec::new();
    if out == Out::SrtCalled {
        // Each request waits until its viewer calls: all 20 in flight, then the back feeders call in.
        let pending: Vec<_> = q
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let (client, url) = (client.clone(), relay.node.url.clone());
                let body = json!({"destination": format!("srt://127.0.0.1:{port}"), "mode": "listener",
                    "streamid": format!("bench-viewer-secret-{i:04}"), "lease_secs": 600});
                std::thread::spawn(move || {
                    let resp = client
                        .post(format!("{url}/fmv/streams/s{i}/subscribers"))
                        .json(&body)
                        .send()
                        .unwrap();
                    assert_eq!(resp.status(), 201, "{:?}", resp.text());
                    resp.json::<serde_json::Value>().unwrap()["subscriber"].as_u64().unwrap()
                })
            })
            .collect();
        wait_bound(q, &mut Children(Vec::new()), run.logs.path(), "node-out");
        let l = run.latency_ms;
        back = spawn(run.logs.path(), "back-caller", |i| {
            peer_args(
                &[],
                format!("{}&streamid=bench-viewer-secret-{i:04}", caller(q[i], l)),
                format!("udp://127.0.0.1:{}", receivers[i].port),
            )
        });
        subs = pending.into_iter().map(|t| t.join().unwrap()).collect();
    }
    for (i, port) in q.iter().enumerate().filter(|_| out != Out::SrtCalled) {
        let destination = match out {
            Out::Srt | Out::SrtCalled => format!("srt://127.0.0.1:{port}"),
            Out::Udp => format!("udp://127.0.0.1:{}", receivers[i].port),
        };
        let resp = client
            .post(format!("{}/fmv/streams/s{i}/subscribers", relay.node.url))
            .json(&json!({"destination": destination, "lease_secs": 600}))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 201, "{:?}", resp.text());
        let body: serde_json::Value = resp.json().unwrap();
        subs.push(body["subscriber"].as_u64().unwrap());
    }
    let ingested_before = ingested(relay, &credential);
    let front = run.front(a, &relay.ports);
    let pid = relay.node.pid();
    let figures = measure(a, receivers, run.duration, run.stragglers(), &|| Some(processes_cpu(&[pid])));
    // The node's own count of what its subscribers lost to their queues (a slow-subscriber drop, not the network),
    // and where datagrams went missing: before the node (ingest), in it, or after it.
    let (mut drops, mut sent) = (0, 0);
    for (i, sub) in subs.iter().enumerate() {
        let doc: serde_json::Value =
            relay.node.get(&credential, &format!("/fmv/streams/s{i}")).unwrap().json().unwrap();
        drops += doc["stats"]["subscriber_drops"].as_u64().unwrap_or(0);
        sent += doc["subscribers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["id"].as_u64() == Some(*sub))
            .filter_map(|s| s["sent"].as_u64())
            .sum::<u64>();
        let resp =
            client.delete(format!("{}/fmv/streams/s{i}/subscribers/{sub}", relay.node.url)).send().unwrap();
        assert!(resp.status().is_success(), "ending subscriber {sub}: {}", resp.status());
    }
    if drops > 0 {
        println!("  (node: {drops} datagrams dropped by lagging subscriber queues)");
    }
    if figures.loss > 0.0 {
        let ingested = ingested(relay, &credential) - ingested_before;
        println!(
            "  (node round: the bench sent {} datagrams, the node ingested {ingested} and sent {sent} to its subscribers)",
            figures.sent_total
        );
    }
    // The caller leaves cleanly, so the stream's listener takes the next round's caller at once.
    interrupt(front);
    interrupt(back);
    figures
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let latency_ms = args
        .iter()
        .position(|a| a == "--latency-ms")
        .map_or(DEFAULT_LATENCY_MS, |i| args[i + 1].parse().expect("--latency-ms takes milliseconds"));
    let duration = Duration::from_secs(if quick { 3 } else { 10 });
    let rounds = 3;
    let Ok(version) = Command::new(PEER).arg("-version").output() else {
        println!(
            "fmv_srt: {PEER} not found, nothing measured: the peer and the feeders are libsrt's srt-live-transmit \
             (apt-get install -y srt-tools)"
        );
        return;
    };
    let version =
        String::from_utf8_lossy(if version.stdout.is_empty() { &version.stderr } else { &version.stdout })
            .trim()
            .replace('\n', ", ");
    let run = Run { duration, latency_ms, logs: tempfile::tempdir().unwrap() };
    println!(
        "FMV SRT relay, {STREAMS} streams x {:.0} Mbit/s of {DATAGRAM}-byte datagrams on loopback, SRT latency \
         {latency_ms} ms on every hop, {} s per relay after {} s warm-up ({PEER}: {version})",
        BITRATE / 1e6,
        duration.as_secs(),
        WARMUP.as_secs(),
    );
    println!(
        "SRT holds each message until its latency window has passed: the direct and UDP-out rows cross one SRT hop \
         (expect about {latency_ms} ms), the SRT-out relays two (expect about {} ms), plus the programs' own time",
        2 * latency_ms
    );
    println!("peer relay: {PEER} {}", relay_args(true, Out::Srt, latency_ms, 5000, 6000).join(" "));
    println!("feeders: {PEER} logs in {}", run.logs.path().display());
    let node = start_node(latency_ms);
    println!("node pid {} (to profile: perf record -e cpu-clock --call-graph dwarf -p PID)", node.node.pid());
    let names = [
        "direct (one SRT hop)",
        "srt-live-transmit",
        "srt-live-transmit -st:no",
        "redoubt node",
        "srt-live-transmit, UDP out",
        "redoubt node, UDP out",
        "redoubt node, viewer calls",
    ];
    // (node row, peer row) of each comparison.
    let pairs = [(3, 1), (3, 2), (5, 4), (6, 1)];
    let mut ratios: Vec<[f64; 8]> = Vec::new();
    for round in 1..=rounds {
        let rows = [
            direct(&run),
            peer(&run, true, Out::Srt),
            peer(&run, false, Out::Srt),
            node_relay(&node, &run, Out::Srt),
            peer(&run, true, Out::Udp),
            node_relay(&node, &run, Out::Udp),
            node_relay(&node, &run, Out::SrtCalled),
        ];
        println!("round {round}/{rounds}");
        print_rows(&names, &rows);
        let due = BITRATE / (DATAGRAM * 8) as f64 * STREAMS as f64 * run.duration.as_secs_f64();
        for (name, f) in names.iter().zip(&rows) {
            if (f.received as f64) < 0.95 * due * (1.0 - f.loss) {
                println!(
                    "  ({name}: the sender fell behind its pace, the machine was saturated: figures not comparable)"
                );
            }
        }
        println!(
            "  p50 added to the direct row's, µs: {}",
            rows[1..]
                .iter()
                .zip(&names[1..])
                .map(|(f, n)| format!("{n} {:.0}", f.p50_us - rows[0].p50_us))
                .collect::<Vec<_>>()
                .join("; ")
        );
        let mut r = [0.0; 8];
        for (j, &(node_row, peer_row)) in pairs.iter().enumerate() {
            let (redoubt, peer) = (&rows[node_row], &rows[peer_row]);
            r[2 * j] = redoubt.p99_us / peer.p99_us;
            r[2 * j + 1] = redoubt.cpu_pct.unwrap() / peer.cpu_pct.unwrap();
            println!(
                "  {} / {}: p99 {:.2}, p50 {:.2}, CPU per stream {:.2}",
                names[node_row],
                names[peer_row],
                r[2 * j],
                redoubt.p50_us / peer.p50_us,
                r[2 * j + 1]
            );
        }
        ratios.push(r);
    }
    for (j, &(node_row, peer_row)) in pairs.iter().enumerate() {
        let (p99, cpu) = (median(&ratios, 2 * j), median(&ratios, 2 * j + 1));
        println!(
            "median over {rounds} rounds, {} / {}: p99 {p99:.2} (goal <= 1.2: {}), CPU per stream {cpu:.2} \
             (goal <= 1.0: {})",
            names[node_row],
            names[peer_row],
            verdict(p99, 1.2),
            verdict(cpu, 1.0)
        );
    }
}
