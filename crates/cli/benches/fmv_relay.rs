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
//! Goals: p99 latency ≤ 1.2 × GStreamer's, CPU per stream ≤ 1.0 × GStreamer's. The SRT half of the issue is the
//! `fmv_srt` bench (the node against `srt-live-transmit`); the load, receivers and CPU accounting of both live in
//! `fmv_common`.
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

mod fmv_common;

use std::process::{Command, Stdio};
use std::time::Duration;

use fmv_common::{
    BITRATE, Children, DATAGRAM, Figures, Receiver, STREAMS, WARMUP, free_udp_ports, measure, median,
    print_rows, processes_cpu, verdict,
};
use redoubt_testkit::{Credential, TestNode};
use serde_json::json;

/// What is still in flight 300 ms after the last send is lost.
const STRAGGLERS: Duration = Duration::from_millis(300);

fn direct(duration: Duration) -> Figures {
    let receivers = Receiver::all();
    let targets: Vec<u16> = receivers.iter().map(|r| r.port).collect();
    measure(&targets, receivers, duration, STRAGGLERS, &|| None)
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
    let receivers = Receiver::all();
    let targets = free_udp_ports(STREAMS);
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
    let pids = children.pids();
    measure(&targets, receivers, duration, STRAGGLERS, &|| Some(processes_cpu(&pids)))
}

struct NodeRelay {
    node: TestNode,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
}

fn start_node() -> NodeRelay {
    let dir = tempfile::tempdir().unwrap();
    let mut config = String::new();
    let ports = free_udp_ports(STREAMS);
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
    let receivers = Receiver::all();
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
    let figures = measure(&relay.ports, receivers, duration, STRAGGLERS, &|| Some(processes_cpu(&[pid])));
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
        print_rows(&names, &rows);
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
    for (j, name) in [(0, names[1]), (1, names[2])] {
        let (p99, cpu) = (median(&ratios, 2 * j), median(&ratios, 2 * j + 1));
        println!(
            "median over {rounds} rounds, node / {name}: p99 {p99:.2} (goal <= 1.2: {}), CPU per stream {cpu:.2} \
             (goal <= 1.0: {})",
            verdict(p99, 1.2),
            verdict(cpu, 1.0)
        );
    }
}
