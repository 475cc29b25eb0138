//! Black-box tests of `redoubt fmv probe`: the real binary on the vendored STANAG 4609 stream, on a stream with
//! a security set and a bad checksum, and on input that is not a transport stream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

use std::path::PathBuf;
use std::process::{Command, Output};

use redoubt_fmv::Timestamp90k;
use redoubt_fmv::ts::{KlvShape, Muxer, MuxerConfig};

fn vendored(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fmv/tests/data").join(name)
}

fn redoubt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redoubt")).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn probe_prints_names_units_and_checksums() {
    let ts = vendored("klv_in_mpegts_async_0x06.ts");
    let out = redoubt(&["fmv", "probe", ts.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    assert!(text.contains("PID 0x0101  stream_type 0x06  KLV metadata (asynchronous)"), "{text}");
    assert!(text.contains(
        "KLV PID 0x0101 PTS 0.040000 s: ST 0601 UAS Datalink Local Set, 114 bytes, checksum valid (C850)"
    ));
    assert!(text.contains("Precision Time Stamp                     2009-01-12T22:08:22.000000Z"));
    assert!(text.contains("Sensor Latitude                          60.1768230 °"));
    assert!(text.contains("Sensor True Altitude                     14190.719 m"));
    assert_eq!(text.matches("KLV PID 0x0101").count(), 50);
    assert!(text.contains("summary: 491 packets, 50 KLV packets, 0 checksum errors, 0 CC errors"));
}

#[test]
fn probe_json_is_machine_readable() {
    let ts = vendored("klv_in_mpegts_async_0x06.ts");
    let out = redoubt(&["fmv", "probe", "--json", ts.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["counters"]["klv_packets"], 50);
    assert_eq!(doc["counters"]["cc_errors"], 0);
    assert_eq!(doc["programs"][0]["streams"][1]["klv_carriage"], "asynchronous");
    let first = &doc["klv"][0];
    assert_eq!(first["pid"], 0x101);
    assert_eq!(first["type"], "st0601");
    assert_eq!(first["checksum"]["status"], "valid");
    let lat = first["items"].as_array().unwrap().iter().find(|i| i["tag"] == 13).unwrap();
    assert_eq!(lat["name"], "Sensor Latitude");
    assert_eq!(lat["unit"], "deg");
    assert!((lat["value"].as_f64().unwrap() - 60.176822966978335).abs() < 1e-12);
}

#[test]
fn probe_shows_security_and_bad_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.ts");
    let klv = std::fs::read(vendored("DynamicConstantMISMMSPacketData.bin")).unwrap();
    let mut muxer = Muxer::new(MuxerConfig { shape: KlvShape::Synchronous, ..MuxerConfig::default() });
    let mut ts = Vec::new();
    muxer.tables(&mut ts);
    muxer.klv(Timestamp90k(90_000), &klv, &mut ts);
    std::fs::write(&path, &ts).unwrap();

    let out = redoubt(&["fmv", "probe", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("KLV metadata (synchronous)"), "{text}");
    assert!(text.contains("checksum MISMATCH (stored AA43, computed 3E1E"), "{text}");
    assert!(
        text.contains("Security Local Set                       UNCLASSIFIED //USA objects USA"),
        "{text}"
    );
    assert!(text.contains("Mission ID                               \"Mission 12\""), "{text}");
    assert!(text.contains("1 checksum errors"), "{text}");

    let out = redoubt(&["fmv", "probe", "--json", path.to_str().unwrap()]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["klv"][0]["checksum"]["status"], "mismatch");
    assert_eq!(doc["klv"][0]["security"]["classification"], "UNCLASSIFIED");
    assert_eq!(doc["klv"][0]["security"]["classifying_country"], "//USA");
}

#[test]
fn probe_rejects_what_is_not_a_transport_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not video at all\n".repeat(100)).unwrap();
    let out = redoubt(&["fmv", "probe", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an MPEG-TS stream"));

    let out = redoubt(&["fmv", "probe", "/nonexistent/redoubt.ts"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open `/nonexistent/redoubt.ts`"));
}
