//! The canonical binary form that is hashed and signed (schema version 1). Do not change any of it: every
//! existing log's hashes and signatures depend on it byte for byte. A new schema gets new domain tags.
//!
//! Encoding, field by field in the order written below:
//! - a domain tag first, as a string (so a header, a decision, a checkpoint and a signature input can never be
//!   confused);
//! - `u32`, `u64`: big-endian, fixed width; a time: its Unix time in nanoseconds as a big-endian `i128`;
//! - a string or byte string: its length as a big-endian `u64`, then its bytes (UTF-8 for strings);
//! - an optional value: one byte `0` if absent, or `1` followed by the value;
//! - a list: its count as a big-endian `u64`, then each item;
//! - an enum: one byte (decision: allow 1, deny 2; object: object 1, stream 2), then its fields;
//! - fixed-size ids and hashes: their raw bytes (16 for a log id, 32 for a key id or hash).
//!
//! A line's hash is SHA-256 of this form of the line. The genesis link (the `prev` of sequence 0) is the header's
//! hash. A checkpoint's signature covers [`checkpoint_message`]; its hash covers the signature too.

use aws_lc_rs::digest::{Context, SHA256};
use time::OffsetDateTime;

use crate::record::{
    Checkpoint, Decision, DecisionRecord, Digest, Entry, Header, KeyId, Line, LogId, Object,
};

/// Domain tags. Do not change.
const TAG_HEADER: &str = "redoubt-audit/1/header";
const TAG_DECISION: &str = "redoubt-audit/1/decision";
const TAG_CHECKPOINT: &str = "redoubt-audit/1/checkpoint";
const TAG_SIGNATURE: &str = "redoubt-audit/1/checkpoint-signature";

/// Hash of one line: the chain link the next line's `prev` must equal.
#[must_use]
pub fn line_hash(line: &Line) -> Digest {
    let mut h = Hasher(Context::new(&SHA256));
    match line {
        Line::Header(x) => header(&mut h, x),
        Line::Decision(x) => decision(&mut h, x),
        Line::Checkpoint(x) => checkpoint(&mut h, x),
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(h.0.finish().as_ref());
    Digest(out)
}

/// The bytes a checkpoint signature covers: the log id, the checkpoint's sequence, time, key id and the chain
/// head it signs.
#[must_use]
pub fn checkpoint_message(
    log_id: &LogId,
    seq: u64,
    time: OffsetDateTime,
    key_id: &KeyId,
    prev: &Digest,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    put_str(&mut out, TAG_SIGNATURE);
    out.extend_from_slice(&crate::record::VERSION.to_be_bytes());
    out.extend_from_slice(&log_id.0);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&time.unix_timestamp_nanos().to_be_bytes());
    out.extend_from_slice(&key_id.0);
    out.extend_from_slice(&prev.0);
    out
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Hasher(Context);

impl Hasher {
    fn raw(&mut self, b: &[u8]) {
        self.0.update(b);
    }
    fn u32(&mut self, v: u32) {
        self.raw(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.raw(&v.to_be_bytes());
    }
    fn time(&mut self, t: OffsetDateTime) {
        self.raw(&t.unix_timestamp_nanos().to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.raw(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.raw(&[0]),
            Some(s) => {
                self.raw(&[1]);
                self.str(s);
            }
        }
    }
    fn list(&mut self, items: &[String]) {
        self.u64(items.len() as u64);
        for s in items {
            self.str(s);
        }
    }
}

fn header(h: &mut Hasher, x: &Header) {
    h.str(TAG_HEADER);
    h.str(&x.format);
    h.u32(x.v);
    h.raw(&x.log_id.0);
    h.time(x.created);
}

fn decision(h: &mut Hasher, x: &DecisionRecord) {
    h.str(TAG_DECISION);
    h.u32(x.v);
    h.u64(x.seq);
    h.time(x.time);
    entry(h, &x.entry);
    h.raw(&x.prev.0);
}

fn entry(h: &mut Hasher, e: &Entry) {
    h.str(&e.request_id);
    h.str(&e.decision_id);
    h.str(&e.who.name);
    h.str(&e.who.role);
    h.opt_str(e.device.as_deref());
    h.str(&e.action);
    match &e.object {
        None => h.raw(&[0]),
        Some(Object::Object { bucket, key }) => {
            h.raw(&[1, 1]);
            h.str(bucket);
            h.opt_str(key.as_deref());
        }
        Some(Object::Stream { id }) => {
            h.raw(&[1, 2]);
            h.str(id);
        }
    }
    match &e.label {
        None => h.raw(&[0]),
        Some(l) => {
            h.raw(&[1]);
            h.str(&l.marking);
            h.str(&l.policy_id);
        }
    }
    h.raw(&[match e.decision {
        Decision::Allow => 1,
        Decision::Deny => 2,
    }]);
    h.list(&e.reasons);
    h.list(&e.policy_ids);
}

fn checkpoint(h: &mut Hasher, x: &Checkpoint) {
    h.str(TAG_CHECKPOINT);
    h.u32(x.v);
    h.u64(x.seq);
    h.time(x.time);
    h.raw(&x.key_id.0);
    h.raw(&x.prev.0);
    h.bytes(&x.sig.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{LabelRef, Who};

    fn entry() -> Entry {
        Entry {
            request_id: "r".into(),
            decision_id: "d".into(),
            who: Who { name: "alice".into(), role: "reader".into() },
            device: None,
            action: "s3:GetObject".into(),
            object: Some(Object::Object { bucket: "b".into(), key: Some("k".into()) }),
            label: Some(LabelRef { marking: "NATO SECRET".into(), policy_id: "1.2.3".into() }),
            decision: Decision::Allow,
            reasons: vec!["acdf".into()],
            policy_ids: vec!["p".into()],
        }
    }

    fn rec(e: Entry) -> Line {
        Line::Decision(DecisionRecord {
            v: 1,
            seq: 0,
            time: OffsetDateTime::UNIX_EPOCH,
            entry: e,
            prev: Digest([0; 32]),
        })
    }

    /// Known-answer test: pins the canonical form. If this fails, the format changed: existing logs would no
    /// longer verify. Do not update the constant; add a new schema version instead.
    #[test]
    fn canonical_form_is_pinned() {
        let h = line_hash(&rec(entry()));
        assert_eq!(h.to_string(), KNOWN_ANSWER);
    }

    // Computed independently from the module documentation (a few lines of Python with struct and hashlib).
    const KNOWN_ANSWER: &str = "6631ea14d6cc77ab275a7d07672896045830f590fa362260f7c3252cfcddf735";

    /// Moving bytes between adjacent fields changes the hash (the length prefixes make the form unambiguous).
    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = entry();
        a.request_id = "ab".into();
        a.decision_id = "c".into();
        let mut b = entry();
        b.request_id = "a".into();
        b.decision_id = "bc".into();
        assert_ne!(line_hash(&rec(a)), line_hash(&rec(b)));
        let mut c = entry();
        c.reasons = vec!["x".into(), "y".into()];
        c.policy_ids = vec![];
        let mut d = entry();
        d.reasons = vec!["x".into()];
        d.policy_ids = vec!["y".into()];
        assert_ne!(line_hash(&rec(c)), line_hash(&rec(d)));
        let mut e = entry();
        e.device = None;
        e.action = "x".into();
        let mut f = entry();
        f.device = Some(String::new());
        f.action = "x".into();
        assert_ne!(line_hash(&rec(e)), line_hash(&rec(f)));
    }
}
