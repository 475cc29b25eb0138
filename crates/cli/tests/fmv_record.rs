//! FMV recording end to end: a real node records a configured UDP stream into its object store as ZTDF
//! segments; the test reads them back with plain S3 requests over mutual TLS, as a cleared and an uncleared
//! identity. Each test proves one property: the segments are the received stream, byte for byte, each under the
//! stream's label and audited; a label raised mid-recording labels the later segments; the partial segment is
//! stored at shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod fmv_common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use fmv_common::{TS, confidential_klv_stream, vendored_ts};
use redoubt_testkit::{Credential, TestNode, redoubt_command};
use serde_json::{Value, json};

const BUCKET: &str = "fmv-rec";

/// A node with one stream on a free loopback port, and alice (reader, SECRET), bob (reader, UNCLASSIFIED) and
/// carol (writer, SECRET).
struct Env {
    node: TestNode,
    dir: tempfile::TempDir,
    port: u16,
}

impl Env {
    /// `segment_seconds`: recorded from the start (configuration), or `None`: not recorded.
    fn start(id: &str, classification: &str, segment_seconds: Option<u32>) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let port = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut config = format!(
            "[[fmv.streams]]\nid = \"{id}\"\nlisten = \"udp://127.0.0.1:{port}\"\nclassification = \"{classification}\"\n"
        );
        if let Some(seconds) = segment_seconds {
            config.push_str(&format!("record = {{ bucket = \"{BUCKET}\", segment_seconds = {seconds} }}\n"));
        }
        let config_path = dir.path().join("node.toml");
        std::fs::write(&config_path, config).unwrap();
        let node = TestNode::start_in(&dir.path().join("data"), &["--config", config_path.to_str().unwrap()])
            .unwrap();
        let ids = dir.path().join("ids");
        std::fs::create_dir(&ids).unwrap();
        for (name, role, clr) in
            [("alice", "reader", "SECRET"), ("bob", "reader", "UNCLASSIFIED"), ("carol", "writer", "SECRET")]
        {
            node.create_identity(&ids, name, role, clr, "FRA");
        }
        Env { node, dir, port }
    }

    fn credential(&self, who: &str) -> Credential {
        let ids = self.dir.path().join("ids");
        Credential::Files { cert: ids.join(format!("{who}.pem")), key: ids.join(format!("{who}.key")) }
    }

    /// The stream's JSON, polled until `done` holds (15 s at most).
    fn wait_stream(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let resp = self.node.get(&self.credential("alice"), &format!("/fmv/streams/{id}")).unwrap();
            assert_eq!(resp.status(), 200);
            let doc: Value = resp.json().unwrap();
            if done(&doc) {
                return doc;
            }
            assert!(Instant::now() < deadline, "the stream never reached the state: {doc}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The keys under `prefix` in the recording bucket (S3 ListObjectsV2 as `who`), in listing order.
    fn list(&self, who: &str, prefix: &str) -> Vec<String> {
        let resp = self
            .node
            .client(&self.credential(who))
            .get(format!("{}/{BUCKET}?list-type=2&prefix={prefix}", self.node.url))
            .send()
            .unwrap();
        assert_eq!(resp.status(), 200);
        let xml = resp.text().unwrap();
        xml.split("<Key>").skip(1).map(|s| s.split("</Key>").next().unwrap().to_owned()).collect()
    }

    /// S3 GetObject as `who`: status, headers, body.
    fn get(&self, who: &str, key: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let resp = self
            .node
            .client(&self.credential(who))
            .get(format!("{}/{BUCKET}/{key}", self.node.url))
            .send()
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().unwrap().to_vec())
    }

    /// POST or DELETE `/fmv/streams/{id}/recording` as `who`.
    fn recording(&self, who: &str, id: &str, body: Option<Value>) -> (u16, Value) {
        let client = self.node.client(&self.credential(who));
        let url = format!("{}/fmv/streams/{id}/recording", self.node.url);
        let resp = match body {
            Some(b) => client.post(url).json(&b).send().unwrap(),
            None => client.delete(url).send().unwrap(),
        };
        let status = resp.status().as_u16();
        (status, resp.json().unwrap_or(Value::Null))
    }

    fn audit(&self, action: &str) -> Vec<Value> {
        self.node.audit_entries(action)
    }
}

/// Sends `ts` to `port` as datagrams of 7 packets, spread over `over`.
fn send_paced(port: u16, ts: &[u8], over: Duration) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let chunks = ts.chunks(7 * TS).count().max(1) as u32;
    for chunk in ts.chunks(7 * TS) {
        socket.send_to(chunk, ("127.0.0.1", port)).unwrap();
        std::thread::sleep(over / chunks);
    }
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_else(|| panic!("no {name} header"))
}

#[test]
fn a_recorded_stream_is_stored_as_labelled_ztdf_segments_that_concatenate_to_the_stream() {
    let env = Env::start("uav1", "CONFIDENTIAL", Some(1));
    let ts = vendored_ts();
    send_paced(env.port, &ts, Duration::from_secs(3));
    // Every byte is stored once the silent stream's last segment is closed (deadline + grace).
    let doc = env.wait_stream("uav1", |d| d["recording"]["bytes"] == ts.len());
    let rec = &doc["recording"];
    assert_eq!(rec["state"], "recording", "{doc}");
    assert_eq!(rec["bucket"], BUCKET);
    assert_eq!(rec["failures"], 0, "{doc}");
    assert_eq!(rec["drops"], 0, "{doc}");

    let keys = env.list("alice", "uav1/");
    assert!(keys.len() >= 2, "3 s at 1 s per segment gave {keys:?}");
    assert_eq!(rec["segments"], keys.len(), "{doc}");
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let mut joined = Vec::new();
    let mut packets = 0u64;
    for key in &keys {
        assert!(key.starts_with("uav1/") && key.ends_with("Z.ts"), "{key}");
        let (status, headers, body) = env.get("alice", key);
        assert_eq!(status, 200, "{key}");
        assert_eq!(header(&headers, "content-type"), "video/mp2t");
        assert_eq!(header(&headers, "x-amz-meta-redoubt-marking"), "NATO CONFIDENTIAL");
        assert!(header(&headers, "x-amz-meta-redoubt-label").contains("CONFIDENTIAL"));
        assert_eq!(header(&headers, "x-amz-meta-fmv-stream"), "uav1");
        assert_eq!(header(&headers, "x-amz-meta-fmv-drops"), "0");
        assert!(header(&headers, "x-amz-meta-fmv-start") <= header(&headers, "x-amz-meta-fmv-end"));
        assert_eq!(header(&headers, "x-amz-meta-fmv-packets").parse::<usize>().unwrap(), body.len() / TS);
        assert_eq!(body.len() % TS, 0, "a segment is cut on a packet boundary");
        packets += (body.len() / TS) as u64;
        joined.extend_from_slice(&body);
    }
    assert_eq!(joined.len(), ts.len());
    assert!(joined == ts, "the segments concatenated are not the stream received");
    assert_eq!(doc["stats"]["packets"], packets);

    // `redoubt get` (the stored container, opened with the key the node's KAS releases) reads a segment too.
    let out = env.dir.path().join("segment.ts");
    let ids = env.dir.path().join("ids");
    let got = redoubt_command()
        .arg("get")
        .args(["--url", &env.node.url, "--data-dir"])
        .arg(&env.node.data_dir)
        .arg("--cert")
        .arg(ids.join("alice.pem"))
        .arg("--key")
        .arg(ids.join("alice.key"))
        .arg(format!("{BUCKET}/{}", keys[0]))
        .arg(&out)
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), env.get("alice", &keys[0]).2);

    // bob (UNCLASSIFIED) is refused every segment.
    for key in &keys {
        assert_eq!(env.get("bob", key).0, 403, "{key}");
    }
    let records = env.audit("fmv:RecordSegment");
    assert_eq!(records.len(), keys.len(), "{records:?}");
    for (r, key) in records.iter().zip(&keys) {
        assert_eq!(r["object"]["bucket"], BUCKET);
        assert_eq!(r["object"]["key"], key.as_str());
        assert_eq!(r["label"]["marking"], "NATO CONFIDENTIAL");
        assert_eq!(r["decision"], "allow");
        assert_eq!(r["who"]["name"], "node");
    }
    let denied = env.audit("s3:GetObject");
    assert!(denied.iter().any(|e| e["who"]["name"] == "bob" && e["decision"] == "deny"), "{denied:?}");
}

#[test]
fn a_label_raised_mid_recording_labels_the_later_segments() {
    let env = Env::start("uav2", "UNCLASSIFIED", Some(1));
    let ts = vendored_ts();
    let raise = confidential_klv_stream();
    send_paced(env.port, &ts, Duration::from_millis(2500));
    send_paced(env.port, &raise, Duration::from_millis(100));
    send_paced(env.port, &ts, Duration::from_millis(2500));
    let total = 2 * ts.len() + raise.len();
    let doc = env.wait_stream("uav2", |d| d["recording"]["bytes"] == total);
    assert_eq!(doc["marking"], "NATO CONFIDENTIAL", "{doc}");
    assert_eq!(doc["recording"]["failures"], 0, "{doc}");

    let keys = env.list("alice", "uav2/");
    let mut offset = 0;
    let mut markings = Vec::new();
    let mut raised_from = None;
    for key in &keys {
        let (status, headers, body) = env.get("alice", key);
        assert_eq!(status, 200);
        let marking = header(&headers, "x-amz-meta-redoubt-marking").to_owned();
        // The segment holding the packets that claim CONFIDENTIAL is stored CONFIDENTIAL, and so is every later one.
        let end = offset + body.len();
        if raised_from.is_none() && end >= ts.len() + raise.len() {
            raised_from = Some(markings.len());
        }
        offset = end;
        let bob = env.get("bob", key).0;
        assert_eq!(bob, if marking == "NATO UNCLASSIFIED" { 200 } else { 403 }, "{key}: {marking}");
        markings.push(marking);
    }
    assert_eq!(offset, total);
    let raised_from = raised_from.unwrap();
    assert!(raised_from > 0, "the first segment was recorded before the raise: {markings:?}");
    assert_eq!(markings[0], "NATO UNCLASSIFIED", "{markings:?}");
    assert!(markings[raised_from..].iter().all(|m| m == "NATO CONFIDENTIAL"), "{markings:?}");
    let records = env.audit("fmv:RecordSegment");
    let labels: Vec<&str> = records.iter().map(|r| r["label"]["marking"].as_str().unwrap()).collect();
    assert_eq!(labels, markings.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn the_partial_segment_is_stored_at_shutdown() {
    let mut env = Env::start("uav3", "CONFIDENTIAL", Some(3600));
    let ts = vendored_ts();
    send_paced(env.port, &ts, Duration::from_millis(300));
    // Received (the relay counted every packet) but the hour-long segment is still open.
    env.wait_stream("uav3", |d| d["stats"]["packets"] == ts.len() / TS);
    std::thread::sleep(Duration::from_millis(200));
    assert!(env.audit("fmv:RecordSegment").is_empty());
    let status = env.node.terminate();
    assert!(status.success(), "{status:?}\n{}", env.node.logs());
    let records = env.audit("fmv:RecordSegment");
    assert_eq!(records.len(), 1, "{records:?}");
    let packets = (ts.len() / TS).to_string();
    assert!(
        records[0]["reasons"][0].as_str().unwrap().contains(&format!("{packets} packets")),
        "{records:?}"
    );
}

#[test]
fn the_api_starts_and_stops_a_recording_for_a_cleared_writer_only() {
    let env = Env::start("uav4", "CONFIDENTIAL", None);
    let body = json!({"bucket": BUCKET, "segment_seconds": 1});
    // A reader may watch but not record: the PDP refuses `write` on the bucket, and the refusal is audited.
    let (status, doc) = env.recording("alice", "uav4", Some(body.clone()));
    assert_eq!(status, 403, "{doc}");
    let (status, doc) = env.recording("carol", "uav4", Some(json!({"bucket": BUCKET, "segment_seconds": 0})));
    assert_eq!(status, 400);
    assert!(doc["error"].as_str().unwrap().contains("`segment_seconds` is 0"), "{doc}");
    let (status, doc) = env.recording("carol", "uav4", Some(body.clone()));
    assert_eq!(status, 201, "{doc}");
    assert_eq!(doc["recording"]["state"], "recording");
    assert_eq!(env.recording("carol", "uav4", Some(body)).0, 409);

    let ts = vendored_ts();
    send_paced(env.port, &ts, Duration::from_millis(1500));
    env.wait_stream("uav4", |d| d["stats"]["packets"] == ts.len() / TS);
    // Stopping stores the open segment before it answers.
    let (status, doc) = env.recording("carol", "uav4", None);
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["recording"]["state"], "stopped", "{doc}");
    assert_eq!(doc["recording"]["bytes"], ts.len(), "{doc}");
    assert_eq!(env.recording("carol", "uav4", None).0, 404);
    let joined: Vec<u8> = env.list("alice", "uav4/").iter().flat_map(|k| env.get("alice", k).2).collect();
    assert!(joined == ts, "the segments concatenated are not the stream received");

    let starts = env.audit("fmv:StartRecording");
    assert!(starts.iter().any(|e| e["who"]["name"] == "alice" && e["decision"] == "deny"), "{starts:?}");
    assert!(starts.iter().any(|e| e["who"]["name"] == "carol" && e["decision"] == "allow"), "{starts:?}");
    assert!(
        starts
            .iter()
            .all(|e| e["object"]["bucket"] == BUCKET && e["label"]["marking"] == "NATO CONFIDENTIAL")
    );
    let stops = env.audit("fmv:StopRecording");
    assert_eq!(stops.len(), 1, "{stops:?}");
    assert_eq!(stops[0]["who"]["name"], "carol");
}
