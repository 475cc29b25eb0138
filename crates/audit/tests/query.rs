//! Query filters: time range, identity, role, action, decision, object prefix; torn tails ignored; bad lines
//! reported with their place.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use std::fs;
use std::io::Write as _;

use common::{at, write_log};
use redoubt_audit::{Decision, Filter, query};

fn ids(log: &common::Log, filter: Filter) -> Vec<String> {
    query(fs::File::open(log.path()).unwrap(), filter).map(|h| h.unwrap().record.entry.request_id).collect()
}

#[test]
fn each_filter_selects_what_it_says() {
    let log = write_log(12, 5);
    assert_eq!(ids(&log, Filter::default()).len(), 12);
    // Decision i is at time at(i + 1).
    let f = Filter { from: Some(at(3)), to: Some(at(6)), ..Default::default() };
    assert_eq!(ids(&log, f), ["req-2", "req-3", "req-4"]);
    let f = Filter { identity: Some("operator1".into()), ..Default::default() };
    assert_eq!(ids(&log, f), ["req-3", "req-7", "req-11"]);
    let f = Filter { decision: Some(Decision::Deny), ..Default::default() };
    assert_eq!(ids(&log, f), ["req-3", "req-7", "req-11"]);
    let f = Filter { role: Some("reader".into()), action: Some("s3:PutObject".into()), ..Default::default() };
    assert_eq!(ids(&log, f), ["req-0", "req-6", "req-9"]);
    let f = Filter { object_prefix: Some("mission/reports/1".into()), ..Default::default() };
    assert_eq!(ids(&log, f), ["req-1", "req-10", "req-11"]);
    let f = Filter { object_prefix: Some("other".into()), ..Default::default() };
    assert!(ids(&log, f).is_empty());
}

#[test]
fn a_torn_tail_is_ignored_and_a_bad_line_is_reported_in_place() {
    let log = write_log(3, 10);
    let mut lines = log.lines();
    lines.insert(2, b"garbage".to_vec());
    log.set_lines(&lines);
    let mut f = fs::OpenOptions::new().append(true).open(log.path()).unwrap();
    f.write_all(b"{\"kind\":\"deci").unwrap();
    drop(f);
    let got: Vec<_> = query(fs::File::open(log.path()).unwrap(), Filter::default()).collect();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].as_ref().unwrap().record.entry.request_id, "req-0");
    let err = got[1].as_ref().unwrap_err().to_string();
    assert!(err.starts_with("line 3 (byte "), "{err}");
    assert_eq!(got[3].as_ref().unwrap().record.entry.request_id, "req-2");
}
