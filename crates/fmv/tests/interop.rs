//! Conformance against an independent decoder: the `klvdata` package from PyPI (pinned in
//! scripts/test-requirements.txt, installed by scripts/install-test-deps) decodes the vendored ST 0601 packets;
//! every tag below 128 must decode to the same value here. Missing python3 or klvdata fails the test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use std::process::Command;

use redoubt_fmv::st0102::SecuritySet;
use redoubt_fmv::st0601::{UasDatalinkSet, Value};
use serde_json::Value as Json;

const VECTORS: [&str; 2] = ["DynamicOnlyMISMMSPacketData.bin", "DynamicConstantMISMMSPacketData.bin"];

fn klvdata(paths: &[std::path::PathBuf]) -> Json {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/klvdata_decode.py");
    let output = Command::new("python3").arg(script).args(paths).output().unwrap_or_else(|e| {
        panic!("python3 is needed for the klvdata conformance test ({e}); run scripts/install-test-deps")
    });
    assert!(
        output.status.success(),
        "klvdata failed (run scripts/install-test-deps to install it): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn assert_float(tag: u64, ours: &Value, theirs: f64) {
    let ours = match ours {
        Value::Quantity { value, .. } => *value,
        Value::Unsigned(v, _) => *v as f64,
        Value::Signed(v, _) => *v as f64,
        other => panic!("tag {tag}: klvdata has a number {theirs}, we have {other:?}"),
    };
    let tolerance = 1e-9 * theirs.abs().max(1.0);
    assert!((ours - theirs).abs() <= tolerance, "tag {tag}: ours {ours}, klvdata {theirs}");
}

#[test]
fn st0601_vectors_agree_with_klvdata() {
    let paths: Vec<_> = VECTORS.iter().map(|v| common::data(v)).collect();
    let reference = klvdata(&paths);
    let mut compared = 0;
    for path in &paths {
        let set = UasDatalinkSet::parse(&std::fs::read(path).unwrap()).unwrap();
        let packets = reference[path.to_str().unwrap()].as_array().unwrap();
        assert_eq!(packets.len(), 1, "{path:?}");
        let theirs = packets[0]["items"].as_array().unwrap();
        let our_tags: Vec<u64> = set.items().map(|i| u64::from(i.tag)).filter(|t| *t < 128).collect();
        let their_tags: Vec<u64> = theirs.iter().map(|i| i["tag"].as_u64().unwrap()).collect();
        assert_eq!(our_tags, their_tags, "{path:?}: same tags in the same order");

        for (ours, theirs) in set.decoded().zip(theirs) {
            let tag = u64::from(ours.info.tag);
            let value = ours.value.as_ref().unwrap_or_else(|e| panic!("tag {tag}: {e}"));
            match theirs["kind"].as_str().unwrap() {
                "float" => assert_float(tag, value, theirs["value"].as_f64().unwrap()),
                "time_us" => match value {
                    Value::Time(t) => assert_eq!(t.micros(), theirs["value"].as_u64().unwrap(), "tag {tag}"),
                    other => panic!("tag {tag}: {other:?}"),
                },
                "text" => {
                    assert_eq!(value, &Value::Text(theirs["value"].as_str().unwrap().to_owned()), "tag {tag}")
                }
                "bytes" => assert_eq!(hex(ours.raw), theirs["value"].as_str().unwrap(), "tag {tag}"),
                "set" => {
                    let nested = SecuritySet::parse_nested(ours.raw).unwrap();
                    let their_items = theirs["items"].as_array().unwrap();
                    let ours: Vec<(u64, String)> =
                        nested.items().map(|i| (u64::from(i.tag), hex(i.value))).collect();
                    let theirs: Vec<(u64, String)> = their_items
                        .iter()
                        .map(|i| (i["tag"].as_u64().unwrap(), i["value"].as_str().unwrap().to_owned()))
                        .collect();
                    assert_eq!(ours, theirs, "nested security set");
                    assert!(matches!(value, Value::Security(_)));
                }
                other => panic!("unknown kind {other}"),
            }
            compared += 1;
        }
    }
    // 19 items in the first packet, 25 in the second: nothing was skipped.
    assert_eq!(compared, 19 + 25);
}
