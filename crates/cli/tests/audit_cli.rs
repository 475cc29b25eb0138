//! `redoubt audit verify` and `redoubt audit query` against logs written with the library and then tampered:
//! exit 0 for an intact log, 1 naming the first bad record, 2 for unreadable input.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test helpers may fail loudly")]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use redoubt_audit::{
    AUDIT_DIR, AuditWriter, Decision, Entry, LOG_FILE, LabelRef, LogId, NodeSigner, Object, OffsetDateTime,
    Who,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../audit/tests/data");

fn redoubt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redoubt")).args(args).output().unwrap()
}

fn at(s: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000 + s).unwrap()
}

fn entry(i: u64, name: &str, decision: Decision) -> Entry {
    Entry {
        request_id: format!("req-{i}"),
        decision_id: format!("dec-{i}"),
        who: Who { name: name.into(), role: "reader".into() },
        device: None,
        action: "s3:GetObject".into(),
        object: Some(Object::Object { bucket: "mission".into(), key: Some(format!("doc-{i}")) }),
        label: Some(LabelRef { marking: "NATO SECRET".into(), policy_id: "NATO".into() }),
        decision,
        reasons: vec![if decision == Decision::Allow { "acdf-permit" } else { "clearance-too-low" }.into()],
        policy_ids: vec!["default".into()],
    }
}

/// A data folder as the node lays it out: `pki/node.pem` and `audit/` with 6 decisions and 2 checkpoints.
fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("pki")).unwrap();
    fs::copy(Path::new(DATA).join("node.pem"), dir.path().join("pki/node.pem")).unwrap();
    let signer = NodeSigner::from_pem(&fs::read(Path::new(DATA).join("node.key")).unwrap()).unwrap();
    let (mut w, _) = AuditWriter::open(&dir.path().join(AUDIT_DIR), LogId([1; 16]), at(0)).unwrap();
    for i in 0..6u64 {
        let (name, d) = if i % 2 == 0 { ("alice", Decision::Allow) } else { ("mallory", Decision::Deny) };
        w.append(&entry(i, name, d), at(i as i64 + 1)).unwrap();
        if i == 2 || i == 5 {
            w.checkpoint(&signer, at(i as i64 + 1)).unwrap();
        }
    }
    dir
}

fn log_of(dir: &tempfile::TempDir) -> std::path::PathBuf {
    dir.path().join(AUDIT_DIR).join(LOG_FILE)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn an_intact_log_verifies_with_the_node_certificate() {
    let dir = data_dir();
    let o = redoubt(&["audit", "verify", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("6 decisions, 2 checkpoints; signed through record 7"), "{out}");
}

#[test]
fn a_log_file_verifies_with_the_public_key_and_reports_json() {
    let dir = data_dir();
    let log = log_of(&dir);
    let pubkey = format!("{DATA}/node.pub");
    let o = redoubt(&["audit", "verify", "--log", log.to_str().unwrap(), "--pubkey", &pubkey, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["decisions"].as_u64(), v["unsigned"].as_u64()),
        (Some(true), Some(6), Some(0))
    );
}

#[test]
fn a_modified_record_fails_with_the_record_named() {
    let dir = data_dir();
    let log = log_of(&dir);
    let text = fs::read_to_string(&log).unwrap().replacen("\"deny\"", "\"allow\"", 1);
    fs::write(&log, text).unwrap();
    let o = redoubt(&["audit", "verify", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("record 2 (line 4, byte ") && err.contains("hash chain is broken"), "{err}");
}

#[test]
fn a_deleted_record_fails() {
    let dir = data_dir();
    let log = log_of(&dir);
    let text = fs::read_to_string(&log).unwrap();
    let kept: Vec<&str> = text.lines().enumerate().filter(|(i, _)| *i != 2).map(|(_, l)| l).collect();
    fs::write(&log, kept.join("\n") + "\n").unwrap();
    let o = redoubt(&["audit", "verify", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("sequence 2 where 1 was expected"), "{}", stderr(&o));
}

#[test]
fn truncation_to_an_earlier_checkpoint_fails_against_checkpoint_json() {
    let dir = data_dir();
    let log = log_of(&dir);
    let text = fs::read_to_string(&log).unwrap();
    let kept: Vec<&str> = text.lines().take(5).collect(); // header, 3 decisions, first checkpoint
    fs::write(&log, kept.join("\n") + "\n").unwrap();
    let o = redoubt(&["audit", "verify", "--data-dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the log was truncated"), "{}", stderr(&o));
}

#[test]
fn the_wrong_key_fails_and_unreadable_input_exits_2() {
    let dir = data_dir();
    let other = tempfile::tempdir().unwrap();
    // A log signed by another key: verify with the test key fails (1).
    let signer = NodeSigner::from_pem(&fs::read(format!("{DATA}/node.key")).unwrap()).unwrap();
    drop(signer);
    let o = redoubt(&[
        "audit",
        "verify",
        "--data-dir",
        other.path().to_str().unwrap(),
        "--cert",
        &format!("{DATA}/node.pem"),
    ]);
    assert_eq!(o.status.code(), Some(2), "missing log: {}", stderr(&o));
    let o = redoubt(&["audit", "verify", "--log", log_of(&dir).to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "no key: {}", stderr(&o));
    let o = redoubt(&[
        "audit",
        "verify",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--pubkey",
        &format!("{DATA}/node.key"),
    ]);
    assert_eq!(o.status.code(), Some(2), "a private key is not a public key: {}", stderr(&o));
}

#[test]
fn query_filters_records() {
    let dir = data_dir();
    let d = dir.path().to_str().unwrap();
    let o = redoubt(&[
        "audit",
        "query",
        "--data-dir",
        d,
        "--identity",
        "mallory",
        "--decision",
        "deny",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ids: Vec<String> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["entry"]["request_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["req-1", "req-3", "req-5"]);
    let o = redoubt(&[
        "audit",
        "query",
        "--data-dir",
        d,
        "--object-prefix",
        "mission/doc-4",
        "--from",
        "2025-06-15T15:06:40Z",
    ]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("allow alice(reader) s3:GetObject mission/doc-4 [NATO SECRET] decision=dec-4"),
        "{out}"
    );
    let o = redoubt(&["audit", "query", "--data-dir", d, "--from", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
}
