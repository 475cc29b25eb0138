//! The FMV relay end to end: a real node with configured UDP streams, real MPEG-TS input (the vendored STANAG
//! 4609 file sent packet-aligned by the test, and a live ffmpeg encode), real mTLS subscribers over HTTP and UDP.
//! Each test proves one property: byte-identical relay, refusal of an uncleared viewer, cut-off of a revoked
//! viewer within 1 s, resilience to hostile input, KLV telemetry, and the ST 0102 label raising the configured one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod fmv_common;

use std::io::Read;
use std::net::UdpSocket;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fmv_common::{Collector, TS, confidential_klv_stream, free_udp_port, vendored_ts};
use redoubt_fmv::Timestamp90k;
use redoubt_fmv::st0102::SecuritySet;
use redoubt_fmv::st0601::UasDatalinkWriter;
use redoubt_fmv::ts::{KlvShape, Muxer, MuxerConfig};
use redoubt_testkit::{Credential, TestNode, redoubt_command};
use serde_json::{Value, json};

/// A node with streams (id, classification) on free loopback ports, and identities.
struct Env {
    node: TestNode,
    dir: tempfile::TempDir,
    ports: Vec<(String, u16)>,
}

impl Env {
    fn start(streams: &[(&str, &str)]) -> Env {
        let with_host: Vec<(&str, &str, &str)> = streams.iter().map(|(i, c)| (*i, *c, "127.0.0.1")).collect();
        Self::start_on(&with_host)
    }

    /// Streams (id, classification, listen host) on free ports.
    fn start_on(streams: &[(&str, &str, &str)]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut config = String::new();
        let mut ports = Vec::new();
        for (id, classification, host) in streams {
            let port = free_udp_port();
            config.push_str(&format!(
                "[[fmv.streams]]\nid = \"{id}\"\nlisten = \"udp://{host}:{port}\"\nclassification = \"{classification}\"\n\n"
            ));
            ports.push(((*id).to_owned(), port));
        }
        let config_path = dir.path().join("node.toml");
        std::fs::write(&config_path, config).unwrap();
        let node = TestNode::start_in(&dir.path().join("data"), &["--config", config_path.to_str().unwrap()])
            .unwrap();
        let ids = dir.path().join("ids");
        std::fs::create_dir(&ids).unwrap();
        for (name, role, clr) in [("alice", "reader", "SECRET"), ("bob", "reader", "UNCLASSIFIED")] {
            node.create_identity(&ids, name, role, clr, "FRA");
        }
        Env { node, dir, ports }
    }

    fn port(&self, id: &str) -> u16 {
        self.ports.iter().find(|(i, _)| i == id).unwrap().1
    }

    fn credential(&self, who: &str) -> Credential {
        let ids = self.dir.path().join("ids");
        Credential::Files { cert: ids.join(format!("{who}.pem")), key: ids.join(format!("{who}.key")) }
    }

    fn get_json(&self, who: &str, path: &str) -> (u16, Value) {
        let resp = self.node.get(&self.credential(who), path).unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    /// Opens `/fmv/streams/{id}/live` as `who`; the reader thread collects the body with arrival times.
    fn watch_http(&self, who: &str, id: &str) -> Result<Collector, (u16, Value)> {
        let client = reqwest::blocking::Client::builder()
            .use_preconfigured_tls(self.node.tls_config(&self.credential(who)))
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        let resp = client.get(format!("{}/fmv/streams/{id}/live", self.node.url)).send().unwrap();
        if resp.status() != 200 {
            let status = resp.status().as_u16();
            return Err((status, resp.json().unwrap_or(Value::Null)));
        }
        assert_eq!(resp.headers()["content-type"], "video/mp2t");
        let collector = Collector::default();
        let sink = collector.clone();
        std::thread::spawn(move || {
            let mut resp = resp;
            let mut buf = vec![0u8; 65536];
            loop {
                match resp.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => sink.push(&buf[..n]),
                }
            }
            *sink.ended.lock().unwrap() = Some(Instant::now());
        });
        Ok(collector)
    }

    /// Asks the node to send stream `id` to a UDP socket of the test; the reader thread collects datagrams.
    fn watch_udp(&self, who: &str, id: &str) -> Collector {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = socket.local_addr().unwrap().port();
        let resp = self
            .node
            .client(&self.credential(who))
            .post(format!("{}/fmv/streams/{id}/subscribers", self.node.url))
            .json(&json!({"destination": format!("udp://127.0.0.1:{port}"), "lease_secs": 60}))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 201, "{:?}", resp.text());
        let collector = Collector::default();
        let sink = collector.clone();
        std::thread::spawn(move || {
            socket.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = vec![0u8; 65536];
            while let Ok(n) = socket.recv(&mut buf) {
                sink.push(&buf[..n]);
            }
        });
        collector
    }

    fn audit(&self, action: &str) -> Vec<Value> {
        self.node.audit_entries(action)
    }

    /// Polls `/fmv/streams/{id}` as `who` until `done` holds (10 s at most).
    fn wait_stream(&self, who: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, doc) = self.get_json(who, &format!("/fmv/streams/{id}"));
            assert_eq!(status, 200, "{doc}");
            if done(&doc) {
                return doc;
            }
            assert!(Instant::now() < deadline, "stream never reached the state: {doc}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Sends `ts` to `port` as datagrams of 7 packets, paced.
fn send_ts(port: u16, ts: &[u8]) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    for chunk in ts.chunks(7 * TS) {
        socket.send_to(chunk, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// The received packets are the sent ones, byte for byte and in order, from the first one received on.
fn assert_relayed_unchanged(sent: &[u8], received: &[u8]) {
    assert!(!received.is_empty(), "nothing received");
    assert_eq!(received.len() % TS, 0, "received a partial packet");
    let first = &received[..TS];
    let start = sent.chunks(TS).position(|p| p == first).expect("the first received packet was never sent");
    let expected = &sent[start * TS..];
    assert!(received.len() <= expected.len(), "received more than was sent");
    assert!(received == &expected[..received.len()], "received packets differ from the packets sent");
}

#[test]
fn cleared_viewers_get_the_vendored_stream_byte_identical_over_http_and_udp() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let ts = vendored_ts();
    let http = env.watch_http("alice", "uav1").unwrap();
    let udp = env.watch_udp("alice", "uav1");
    send_ts(env.port("uav1"), &ts);
    http.wait_for(ts.len(), Duration::from_secs(10));
    udp.wait_for(ts.len(), Duration::from_secs(10));
    // Subscribed before the first byte was sent: everything, unchanged.
    assert_eq!(http.bytes(), ts, "HTTP relay is not byte-identical");
    assert_eq!(udp.bytes(), ts, "UDP relay is not byte-identical");
    let grants = env.audit("fmv:Subscribe");
    assert_eq!(grants.iter().filter(|e| e["who"]["name"] == "alice" && e["decision"] == "allow").count(), 2);
}

#[test]
fn a_live_ffmpeg_encode_is_relayed_unchanged() {
    let env = Env::start(&[("cam", "UNCLASSIFIED")]);
    // ffmpeg sends to the test's tap, which records every datagram and forwards it to the node.
    let tap = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tap_port = tap.local_addr().unwrap().port();
    let node_port = env.port("cam");
    let sent = Arc::new(Mutex::new(Vec::new()));
    let recorded = sent.clone();
    std::thread::spawn(move || {
        tap.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = tap.recv(&mut buf) {
            recorded.lock().unwrap().extend_from_slice(&buf[..n]);
            tap.send_to(&buf[..n], ("127.0.0.1", node_port)).unwrap();
        }
    });
    let http = env.watch_http("bob", "cam").unwrap();
    let udp = env.watch_udp("bob", "cam");
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i"])
        .args(["testsrc=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast"])
        .args(["-f", "mpegts", &format!("udp://127.0.0.1:{tap_port}?pkt_size=1316")])
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(500));
    let sent = sent.lock().unwrap().clone();
    assert!(sent.len() > 10 * TS, "ffmpeg sent almost nothing");
    http.wait_for(sent.len(), Duration::from_secs(5));
    udp.wait_for(sent.len(), Duration::from_secs(5));
    assert_relayed_unchanged(&sent, &http.bytes());
    assert_relayed_unchanged(&sent, &udp.bytes());
    assert_eq!(http.len(), sent.len(), "HTTP subscriber lost packets");
    let doc =
        env.wait_stream("bob", "cam", |d| d["stats"]["packets"].as_u64() == Some((sent.len() / TS) as u64));
    assert_eq!(doc["stats"]["cc_errors"], 0, "{doc}");
    assert_eq!(doc["stats"]["dropped_bytes"], 0, "{doc}");
}

#[test]
fn a_multicast_group_joined_on_loopback_is_ingested_and_relayed() {
    let group = "239.255.42.7";
    let env = Env::start_on(&[("mc", "UNCLASSIFIED", group)]);
    let http = env.watch_http("bob", "mc").unwrap();
    // ffmpeg sends to the group out of the loopback interface (IP_MULTICAST_IF from `localaddr`).
    let status = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"])
        .args(["-t", "1", "-c:v", "mpeg2video", "-f", "mpegts"])
        .arg(format!("udp://{group}:{}?localaddr=127.0.0.1&pkt_size=1316", env.port("mc")))
        .status()
        .expect("ffmpeg is installed");
    assert!(status.success());
    let doc = env.wait_stream("bob", "mc", |d| d["stats"]["packets"].as_u64() > Some(20));
    let packets = doc["stats"]["packets"].as_u64().unwrap() as usize;
    http.wait_for(packets * TS, Duration::from_secs(5));
    let got = http.bytes();
    assert_eq!(got.len(), packets * TS, "{doc}");
    assert!(got.chunks(TS).all(|p| p[0] == 0x47));
    assert_eq!(doc["stats"]["dropped_bytes"], 0);
}

#[test]
fn an_uncleared_viewer_is_refused_with_the_rule_and_audited() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let (status, body) = env.watch_http("bob", "uav1").err().expect("bob must be refused");
    assert_eq!(status, 403);
    assert_eq!(body["rules"][0], "acdf", "{body}");
    assert!(body["error"].as_str().unwrap().contains("rule acdf"), "{body}");
    let decision_id = body["decision_id"].as_str().unwrap().to_owned();
    // The stream is not even listed for bob, and its telemetry is refused.
    let (_, list) = env.get_json("bob", "/fmv/streams");
    assert_eq!(list["streams"].as_array().unwrap().len(), 0, "{list}");
    let (_, alice_list) = env.get_json("alice", "/fmv/streams");
    assert_eq!(alice_list["streams"][0]["id"], "uav1");
    assert_eq!(env.get_json("bob", "/fmv/streams/uav1/track").0, 403);
    // A UDP destination off loopback is refused before anything is decided on the stream.
    let resp = env
        .node
        .client(&env.credential("alice"))
        .post(format!("{}/fmv/streams/uav1/subscribers", env.node.url))
        .json(&json!({"destination": "udp://192.0.2.1:5000"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().unwrap();
    assert_eq!(body["rules"][0], "fmv-destination-not-loopback", "{body}");

    let audit = env.audit("fmv:Subscribe");
    let denial = audit.iter().find(|e| e["decision_id"] == decision_id.as_str()).expect("denial audited");
    assert_eq!(denial["who"]["name"], "bob");
    assert_eq!(denial["decision"], "deny");
    assert_eq!(denial["object"]["id"], "uav1");
    assert!(
        audit
            .iter()
            .any(|e| e["policy_ids"][0] == "fmv-destination-not-loopback" && e["who"]["name"] == "alice")
    );
}

#[test]
fn a_revoked_viewer_is_cut_off_within_a_second_and_audited() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let ts = vendored_ts();
    let http = env.watch_http("alice", "uav1").unwrap();
    let udp = env.watch_udp("alice", "uav1");
    let port = env.port("uav1");
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sending = stop.clone();
    let sender = std::thread::spawn(move || {
        while !sending.load(std::sync::atomic::Ordering::Relaxed) {
            send_ts(port, &ts);
        }
    });
    http.wait_for(10 * TS, Duration::from_secs(5));
    udp.wait_for(10 * TS, Duration::from_secs(5));
    assert!(http.len() > 0 && udp.len() > 0);
    let out = redoubt_command()
        .args(["identity", "revoke", "alice", "--url", &env.node.url, "--data-dir"])
        .arg(&env.node.data_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let revoked = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
    let limit = revoked + Duration::from_secs(1);
    let last_http = *http.arrivals.lock().unwrap().last().unwrap();
    let last_udp = *udp.arrivals.lock().unwrap().last().unwrap();
    assert!(last_http <= limit, "HTTP bytes arrived {:?} after revocation", last_http - revoked);
    assert!(last_udp <= limit, "UDP bytes arrived {:?} after revocation", last_udp - revoked);
    let ended = http.ended.lock().unwrap().expect("the HTTP body must end");
    assert!(ended <= limit, "the HTTP body ended {:?} after revocation", ended - revoked);
    let cutoffs = env.audit("fmv:CutOff");
    assert_eq!(cutoffs.iter().filter(|e| e["who"]["name"] == "alice").count(), 2, "{cutoffs:?}");
    assert!(cutoffs.iter().all(|e| e["decision"] == "deny" && e["policy_ids"][0] == "identity-revoked"));
}

#[test]
fn garbage_bad_sync_and_truncated_input_is_counted_and_the_stream_keeps_flowing() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let ts = vendored_ts();
    let http = env.watch_http("alice", "uav1").unwrap();
    let port = env.port("uav1");
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let half = ts.len() / TS / 2 * TS;
    send_ts(port, &ts[..half]);
    let garbage = b"this is not a transport stream at all".repeat(10);
    socket.send_to(&garbage, ("127.0.0.1", port)).unwrap();
    let mut bad_sync = ts[TS..2 * TS].to_vec();
    bad_sync[0] = 0x00;
    socket.send_to(&bad_sync, ("127.0.0.1", port)).unwrap();
    socket.send_to(&ts[..100], ("127.0.0.1", port)).unwrap();
    socket.send_to(&[], ("127.0.0.1", port)).unwrap();
    send_ts(port, &ts[half..]);
    http.wait_for(ts.len(), Duration::from_secs(10));
    // Only whole packets were relayed, unchanged: the stream as sent, without the hostile datagrams.
    assert_eq!(http.bytes(), ts);
    let dropped = (garbage.len() + TS + 100) as u64;
    let doc = env.wait_stream("alice", "uav1", |d| d["stats"]["klv_packets"] == 50);
    assert_eq!(doc["stats"]["dropped_bytes"], dropped, "{doc}");
    assert_eq!(doc["stats"]["packets"], (ts.len() / TS) as u64, "{doc}");
    assert!(doc["stats"]["skipped_bytes"].as_u64().unwrap() > 0, "{doc}");
    assert_eq!(doc["stats"]["checksum_errors"], 0, "{doc}");
}

#[test]
fn stream_json_and_track_show_the_klv_telemetry() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    send_ts(env.port("uav1"), &vendored_ts());
    let doc = env.wait_stream("alice", "uav1", |d| d["stats"]["klv_packets"] == 50);
    assert_eq!(doc["id"], "uav1");
    assert_eq!(doc["marking"], "NATO CONFIDENTIAL", "{doc}");
    assert_eq!(doc["flagged"], false);
    assert_eq!(doc["stats"]["checksum_errors"], 0);
    assert_eq!(doc["stats"]["cc_errors"], 0);
    assert_eq!(doc["stats"]["packets"], 491);
    assert!(doc["stats"]["bitrate_bps"].as_u64().unwrap() > 0, "{doc}");
    assert!(doc["stats"]["klv_rate_hz"].as_f64().unwrap() > 0.0, "{doc}");
    let platform = &doc["telemetry"]["platform"];
    assert!((platform["latitude"].as_f64().unwrap() - 60.176822966978335).abs() < 1e-9, "{doc}");
    assert!((platform["longitude"].as_f64().unwrap() - 128.42675904204452).abs() < 1e-9, "{doc}");
    assert!((platform["altitude"].as_f64().unwrap() - 14190.72).abs() < 0.01, "{doc}");
    assert_eq!(doc["telemetry"]["precision_time"], "2009-01-12T22:08:22.000000Z", "{doc}");
    assert!(doc["telemetry"]["frame_center"]["latitude"].is_f64(), "{doc}");
    let (_, list) = env.get_json("alice", "/fmv/streams");
    assert_eq!(list["streams"][0]["stats"]["klv_packets"], 50);
    let resp = env.node.get(&env.credential("alice"), "/fmv/streams/uav1/track").unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/geo+json");
    let track: Value = resp.json().unwrap();
    assert_eq!(track["type"], "Feature");
    assert_eq!(track["geometry"]["type"], "LineString");
    let first = &track["geometry"]["coordinates"][0];
    assert!((first[0].as_f64().unwrap() - 128.42675904204452).abs() < 1e-9, "{track}");
    assert!((first[1].as_f64().unwrap() - 60.176822966978335).abs() < 1e-9, "{track}");
    assert_eq!(env.get_json("alice", "/fmv/streams/nope").0, 404);
}

#[test]
fn the_st0102_label_raises_a_lower_configured_label_and_cuts_off_the_uncleared() {
    let env = Env::start(&[("uav2", "UNCLASSIFIED")]);
    // bob (UNCLASSIFIED) may watch the stream as configured...
    let http = env.watch_http("bob", "uav2").unwrap();
    let before = env.wait_stream("alice", "uav2", |_| true);
    assert_eq!(before["marking"], "NATO UNCLASSIFIED");
    // ...until the stream's own metadata says CONFIDENTIAL: the more restrictive label wins.
    send_ts(env.port("uav2"), &confidential_klv_stream());
    let doc = env.wait_stream("alice", "uav2", |d| d["raised"] == true);
    assert_eq!(doc["marking"], "NATO CONFIDENTIAL", "{doc}");
    assert_eq!(doc["configured_marking"], "NATO UNCLASSIFIED");
    assert_eq!(doc["klv_marking"], "NATO CONFIDENTIAL");
    assert_eq!(doc["flagged"], true);
    let deadline = Instant::now() + Duration::from_secs(2);
    while http.ended.lock().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(http.ended.lock().unwrap().is_some(), "bob was not cut off after the label was raised");
    assert_eq!(env.get_json("bob", "/fmv/streams/uav2").0, 403);
    let raised = env.audit("fmv:LabelRaised");
    assert_eq!(raised.len(), 1, "{raised:?}");
    assert_eq!(raised[0]["object"]["id"], "uav2");
    assert_eq!(raised[0]["label"]["marking"], "NATO CONFIDENTIAL");
    let cut = env.audit("fmv:CutOff");
    assert!(cut.iter().any(|e| e["who"]["name"] == "bob" && e["policy_ids"][0] == "acdf"), "{cut:?}");
}

impl Env {
    /// `redoubt fmv ARGS --url … --data-dir … --cert WHO.pem --key WHO.key`.
    fn fmv_cli(&self, who: &str, args: &[&str]) -> std::process::Command {
        let ids = self.dir.path().join("ids");
        let mut cmd = redoubt_command();
        cmd.arg("fmv").args(args).args(["--url", &self.node.url, "--data-dir"]).arg(&self.node.data_dir);
        cmd.arg("--cert")
            .arg(ids.join(format!("{who}.pem")))
            .arg("--key")
            .arg(ids.join(format!("{who}.key")));
        cmd
    }
}

#[test]
fn cli_lists_streams_and_watches_to_a_file_and_to_udp() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let ts = vendored_ts();
    let out = env.fmv_cli("alice", &["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["streams"][0]["id"], "uav1");
    let out = env.fmv_cli("bob", &["list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("no streams you may read"));

    let file = env.dir.path().join("watched.ts");
    let mut to_file = env
        .fmv_cli("alice", &["watch", "uav1", "--out", file.to_str().unwrap(), "--seconds", "4"])
        .spawn()
        .unwrap();
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dest = format!("udp://{}", receiver.local_addr().unwrap());
    let mut to_udp =
        env.fmv_cli("alice", &["watch", "uav1", "--out", &dest, "--seconds", "4"]).spawn().unwrap();
    // Both subscribers are registered once the node lists them.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.get_json("alice", "/fmv/streams/uav1").1["stats"]["subscribers"] != 2 {
        assert!(Instant::now() < deadline, "the CLI never subscribed");
        std::thread::sleep(Duration::from_millis(50));
    }
    send_ts(env.port("uav1"), &ts);
    let mut got = Vec::new();
    receiver.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = vec![0u8; 65536];
    while got.len() < ts.len() {
        let Ok(n) = receiver.recv(&mut buf) else { break };
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, ts, "udp watch is not byte-identical");
    assert!(to_file.wait().unwrap().success());
    assert!(to_udp.wait().unwrap().success());
    assert_eq!(std::fs::read(&file).unwrap(), ts, "file watch is not byte-identical");
    // The UDP subscriber was ended by the CLI.
    let doc = env.wait_stream("alice", "uav1", |d| d["stats"]["subscribers"] == 0);
    assert_eq!(doc["stats"]["subscriber_drops"], 0);
    // An uncleared identity is refused: exit 1.
    let out = env.fmv_cli("bob", &["watch", "uav1", "--out", "-", "--seconds", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rule acdf"));
}

#[test]
fn a_stalled_subscriber_loses_the_oldest_and_never_slows_the_others() {
    let env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let ts = vendored_ts();
    // The stalled viewer: its response is open, its body never read.
    let stalled = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(env.node.tls_config(&env.credential("alice")))
        .http1_only()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
        .get(format!("{}/fmv/streams/uav1/live", env.node.url))
        .send()
        .unwrap();
    assert_eq!(stalled.status(), 200);
    let udp = env.watch_udp("alice", "uav1");
    // About 20 MB, more than the ring (1024 datagrams) and the socket buffers hold.
    let mut sent = Vec::new();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = env.port("uav1");
    for _ in 0..220 {
        for (i, chunk) in ts.chunks(7 * TS).enumerate() {
            socket.send_to(chunk, ("127.0.0.1", port)).unwrap();
            // About 10 MB/s: far above a real stream, yet a pace the UDP viewer's task keeps up with on a
            // loaded 2-core machine (at 35 MB/s it fell more than a ring behind while other tests ran).
            if i % 8 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        sent.extend_from_slice(&ts);
    }
    let subscriber = |d: &Value, http: bool| {
        d["subscribers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| (s["destination"] == "http") == http)
            .cloned()
            .unwrap()
    };
    let doc = env.wait_stream("alice", "uav1", |d| {
        subscriber(d, true)["drops"].as_u64() > Some(0)
            && subscriber(d, false)["sent"] == d["stats"]["datagrams"]
    });
    // The UDP viewer was handed every datagram the node received, none dropped, while the stalled one lost the
    // oldest; what reached the test's socket is whole packets of the stream, unchanged.
    let udp_sub = subscriber(&doc, false);
    assert_eq!(udp_sub["drops"], 0, "{doc}");
    assert!(doc["stats"]["subscriber_drops"].as_u64().unwrap() > 0, "{doc}");
    udp.wait_for(sent.len() / 2, Duration::from_secs(5));
    let got = udp.bytes();
    assert_eq!(got.len() % TS, 0);
    let known: std::collections::HashSet<&[u8]> = ts.chunks(TS).collect();
    assert!(got.chunks(TS).all(|p| known.contains(p)), "a relayed packet was altered");
    drop(stalled);
}

#[test]
fn ffprobe_reads_the_live_endpoint_over_mutual_tls() {
    let env = Env::start(&[("cam", "UNCLASSIFIED")]);
    let port = env.port("cam");
    let ts = vendored_ts();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sending = stop.clone();
    let sender = std::thread::spawn(move || {
        while !sending.load(std::sync::atomic::Ordering::Relaxed) {
            send_ts(port, &ts);
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let ids = env.dir.path().join("ids");
    let out = std::process::Command::new("ffprobe")
        .args(["-hide_banner", "-v", "error", "-show_streams", "-of", "json", "-tls_verify", "1", "-ca_file"])
        .arg(env.node.pki("ca.pem"))
        .arg("-cert_file")
        .arg(ids.join("bob.pem"))
        .arg("-key_file")
        .arg(ids.join("bob.key"))
        .arg(format!("{}/fmv/streams/cam/live", env.node.url))
        .output()
        .expect("ffprobe is installed");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let streams = doc["streams"].as_array().unwrap();
    assert!(streams.iter().any(|s| s["codec_type"] == "video"), "{doc}");
    assert!(streams.iter().any(|s| s["codec_type"] == "data"), "{doc}");
}

#[test]
fn sigterm_ends_live_viewers_and_the_node_exits_promptly() {
    let mut env = Env::start(&[("uav1", "CONFIDENTIAL")]);
    let http = env.watch_http("alice", "uav1").unwrap();
    send_ts(env.port("uav1"), &vendored_ts());
    http.wait_for(TS, Duration::from_secs(5));
    let started = Instant::now();
    let status = env.node.terminate();
    assert!(status.success(), "{status}");
    // A live body must not hold the connection drain (30 s grace by default).
    assert!(started.elapsed() < Duration::from_secs(5), "exit took {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(200));
    assert!(http.ended.lock().unwrap().is_some(), "the live body did not end");
}

#[test]
fn a_security_set_that_maps_to_no_label_quarantines_the_stream() {
    let env = Env::start(&[("uav3", "UNCLASSIFIED")]);
    let http = env.watch_http("alice", "uav3").unwrap();
    // An ST 0102 set with a classifying country but no classification: no label can be derived (fail closed).
    let mut set = SecuritySet::default();
    set.set(redoubt_fmv::st0102::tag::CLASSIFYING_COUNTRY, b"//NATO".to_vec());
    let mut klv = UasDatalinkWriter::new();
    klv.security(&set);
    let klv = klv.finish();
    let mut muxer = Muxer::new(MuxerConfig { shape: KlvShape::Synchronous, ..MuxerConfig::default() });
    let mut ts = Vec::new();
    muxer.tables(&mut ts);
    muxer.klv(Timestamp90k(90_000), &klv, &mut ts);
    send_ts(env.port("uav3"), &ts);
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (status, body) = env.get_json("alice", "/fmv/streams/uav3");
        if status == 403 {
            break body;
        }
        assert!(Instant::now() < deadline, "the stream was never quarantined: {body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(body["rules"][0], "fmv-stream-quarantined", "{body}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while http.ended.lock().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(http.ended.lock().unwrap().is_some(), "the viewer of a quarantined stream was not cut off");
    let quarantined = env.audit("fmv:Quarantined");
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert!(quarantined[0]["reasons"][0].as_str().unwrap().contains("maps to no label"), "{quarantined:?}");
}
