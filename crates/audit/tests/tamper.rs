//! One test per kind of tampering: each is detected, and the report names the first bad record and why.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use std::fs;
use std::io::Write as _;

use common::{Log, at, edit, entry, write_log};
use redoubt_audit::{AuditWriter, Line, LogId, ProblemKind, Recovery, VerifyingKey};

/// 10 decisions, checkpoints after 4 and 8 and at the end: lines are
/// header, d0 d1 d2 d3 C(4), d4 d5 d6 d7 C(9), d8 d9 C(12).
fn log() -> Log {
    write_log(10, 4)
}

fn line_of_seq(seq: u64) -> usize {
    (seq + 1) as usize
}

#[test]
fn an_untouched_log_verifies() {
    let log = log();
    let r = log.verify_anchored();
    assert!(r.is_ok(), "{:?}", r.problem);
    assert_eq!((r.decisions, r.checkpoints, r.unsigned, r.last_seq), (10, 3, 0, Some(12)));
    assert_eq!(r.last_checkpoint.unwrap().seq, 12);
    assert_eq!(r.torn_tail, None);
}

#[test]
fn a_modified_field_breaks_the_chain_at_the_next_record() {
    let log = log();
    let mut lines = log.lines();
    let i = line_of_seq(2);
    lines[i] = edit(&lines[i], |l| {
        if let Line::Decision(d) = l {
            d.entry.decision = redoubt_audit::Decision::Allow;
            d.entry.who.name = "mallory".into();
        }
    });
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.line, p.kind.clone()), (Some(3), 5, ProblemKind::Chain), "{p}");
    assert!(p.to_string().starts_with("record 3 (line 5, byte "), "{p}");
}

#[test]
fn a_modified_record_just_before_a_checkpoint_is_caught_by_the_checkpoint() {
    let log = log();
    let mut lines = log.lines();
    let i = line_of_seq(3);
    lines[i] = edit(&lines[i], |l| {
        if let Line::Decision(d) = l {
            d.entry.reasons = vec!["nothing-to-see".into()];
        }
    });
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.kind), (Some(4), ProblemKind::Chain));
}

#[test]
fn an_edit_that_keeps_the_meaning_but_not_the_bytes_is_caught() {
    let log = log();
    let mut lines = log.lines();
    let i = line_of_seq(1);
    let text = String::from_utf8(lines[i].clone()).unwrap().replacen(",\"", ", \"", 1);
    lines[i] = text.into_bytes();
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.line, p.kind), (Some(1), 3, ProblemKind::NotCanonical));
}

#[test]
fn a_deleted_record_is_caught() {
    let log = log();
    let mut lines = log.lines();
    lines.remove(line_of_seq(5));
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.kind), (Some(6), ProblemKind::Sequence { expected: 5, found: 6 }));
}

#[test]
fn an_inserted_record_is_caught() {
    let log = log();
    let mut lines = log.lines();
    let copy = lines[line_of_seq(1)].clone();
    lines.insert(line_of_seq(2), copy);
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.line, p.kind), (Some(1), 4, ProblemKind::Sequence { expected: 2, found: 1 }));
}

#[test]
fn a_forged_record_with_a_correct_link_is_caught_by_the_sequence_or_the_next_link() {
    // The forger renumbers everything after the insertion and relinks it: the next checkpoint's signature fails.
    let log = log();
    let mut lines = log.lines();
    let mut parsed: Vec<Line> = lines.iter().map(|l| redoubt_audit::chain::parse_line(l).unwrap()).collect();
    let Line::Decision(mut forged) = parsed[line_of_seq(1)].clone() else { panic!() };
    forged.entry.who.name = "ghost".into();
    parsed.insert(line_of_seq(2), Line::Decision(forged));
    let mut prev = redoubt_audit::canonical::line_hash(&parsed[0]);
    for (seq, l) in parsed.iter_mut().skip(1).enumerate() {
        match l {
            Line::Decision(d) => {
                d.seq = seq as u64;
                d.prev = prev;
            }
            Line::Checkpoint(c) => {
                c.seq = seq as u64;
                c.prev = prev;
            }
            Line::Header(_) => panic!("a header after the first line"),
        }
        prev = redoubt_audit::canonical::line_hash(l);
    }
    lines = parsed.iter().map(|l| redoubt_audit::chain::encode_line(l).unwrap()).collect();
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.kind), (Some(5), ProblemKind::Signature));
}

#[test]
fn swapped_records_are_caught() {
    let log = log();
    let mut lines = log.lines();
    lines.swap(line_of_seq(6), line_of_seq(7));
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.kind), (Some(7), ProblemKind::Sequence { expected: 6, found: 7 }));
}

#[test]
fn truncation_to_an_earlier_checkpoint_is_caught_against_the_anchor_and_the_loss_is_stated() {
    let log = log();
    let mut lines = log.lines();
    lines.truncate(line_of_seq(9) + 1); // ends with C(9)
    log.set_lines(&lines);
    // Alone, the shorter log is a valid log: that is what the anchor is for.
    let alone = log.verify();
    assert!(alone.is_ok());
    assert_eq!(alone.last_checkpoint.unwrap().seq, 9);
    let p = log.verify_anchored().problem.unwrap();
    assert_eq!(p.kind, ProblemKind::Truncated { end: 10, anchored: 12 });
    assert_eq!((p.seq, p.line), (Some(10), 12));
}

#[test]
fn truncation_after_the_last_checkpoint_leaves_an_unsigned_tail_that_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let signer = common::signer();
    let (mut w, _) = AuditWriter::open(dir.path(), LogId([1; 16]), at(0)).unwrap();
    for i in 0..3 {
        w.append(&entry(i), at(i)).unwrap();
    }
    w.checkpoint(&signer, at(3)).unwrap();
    for i in 3..7 {
        w.append(&entry(i), at(i)).unwrap();
    }
    w.sync().unwrap();
    drop(w);
    let log = Log { dir, signer };
    let r = log.verify_anchored();
    assert!(r.is_ok());
    assert_eq!((r.unsigned, r.last_checkpoint.unwrap().seq), (4, 3));
}

#[test]
fn truncation_mid_line_is_a_torn_tail_and_against_the_anchor_a_truncation() {
    let log = log();
    let bytes = fs::read(log.path()).unwrap();
    fs::write(log.path(), &bytes[..bytes.len() - 20]).unwrap();
    let r = log.verify();
    assert!(r.is_ok());
    let torn = r.torn_tail.clone().unwrap();
    assert_eq!(torn.offset + torn.len, bytes.len() as u64 - 20);
    assert_eq!(r.last_seq, Some(11));
    let p = log.verify_anchored().problem.unwrap();
    assert_eq!(p.kind, ProblemKind::Truncated { end: 12, anchored: 12 });
}

#[test]
fn a_flipped_signature_byte_is_caught() {
    let log = log();
    let mut lines = log.lines();
    let i = line_of_seq(4);
    lines[i] = edit(&lines[i], |l| {
        if let Line::Checkpoint(c) = l {
            c.sig.0[10] ^= 1;
        }
    });
    log.set_lines(&lines);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.seq, p.line, p.kind), (Some(4), 6, ProblemKind::Signature));
}

#[test]
fn a_log_signed_by_another_key_names_the_key() {
    let log = log();
    let other = common::signer();
    let r =
        redoubt_audit::verify(fs::File::open(log.path()).unwrap(), &other.verifying_key().unwrap()).unwrap();
    assert_eq!(
        r.problem.unwrap().kind,
        ProblemKind::WrongKey(redoubt_audit::CheckpointSigner::key_id(&log.signer))
    );
}

#[test]
fn an_anchor_from_another_log_is_refused() {
    let a = log();
    let b = write_log(3, 10);
    let b_head = b.head();
    let r =
        redoubt_audit::verify_anchored(fs::File::open(a.path()).unwrap(), &a.key(), Some(&b_head)).unwrap();
    assert!(matches!(r.problem.unwrap().kind, ProblemKind::BadAnchor(_)));
}

#[test]
fn an_oversized_line_is_an_error_not_an_allocation() {
    let log = log();
    let mut f = fs::OpenOptions::new().append(true).open(log.path()).unwrap();
    f.write_all(&vec![b'x'; 10 * 1024 * 1024]).unwrap();
    f.write_all(b"\n").unwrap();
    drop(f);
    let p = log.verify().problem.unwrap();
    assert_eq!((p.line, p.kind), (15, ProblemKind::TooLong { limit: redoubt_audit::lines::MAX_LINE }));
}

#[test]
fn garbage_and_empty_inputs_are_problems() {
    let key: VerifyingKey = common::signer().verifying_key().unwrap();
    let r = redoubt_audit::verify(&b""[..], &key).unwrap();
    assert_eq!(r.problem.unwrap().kind, ProblemKind::Empty);
    for input in [&b"not json\n"[..], b"{\"kind\":\"decision\"}\n", b"\n"] {
        let r = redoubt_audit::verify(input, &key).unwrap();
        assert!(matches!(r.problem.unwrap().kind, ProblemKind::BadHeader(_)));
    }
}

#[test]
fn a_torn_tail_is_removed_on_open_and_the_log_goes_on() {
    let log = log();
    let before = fs::read(log.path()).unwrap();
    let mut f = fs::OpenOptions::new().append(true).open(log.path()).unwrap();
    f.write_all(br#"{"kind":"decision","v":1,"seq":13,"ti"#).unwrap();
    drop(f);
    let (mut w, rec) = AuditWriter::open(log.dir.path(), LogId([0; 16]), at(99)).unwrap();
    assert_eq!(rec, Some(Recovery::Truncated { offset: before.len() as u64, len: 37 }));
    assert_eq!(fs::read(log.path()).unwrap(), before, "exactly the torn bytes were removed");
    assert_eq!(w.next_seq(), 13);
    w.append(&entry(50), at(100)).unwrap();
    w.checkpoint(&log.signer, at(101)).unwrap();
    drop(w);
    let r = log.verify_anchored();
    assert!(r.is_ok(), "{:?}", r.problem);
    assert_eq!(r.decisions, 11);
}

#[test]
fn a_complete_last_record_missing_its_newline_is_kept_not_dropped() {
    let log = log();
    let bytes = fs::read(log.path()).unwrap();
    fs::write(log.path(), &bytes[..bytes.len() - 1]).unwrap();
    let r = log.verify_anchored();
    assert!(r.is_ok() && r.missing_final_newline);
    let (w, rec) = AuditWriter::open(log.dir.path(), LogId([0; 16]), at(99)).unwrap();
    assert_eq!(rec, Some(Recovery::NewlineRestored { seq: 12 }));
    assert_eq!(w.next_seq(), 13);
    drop(w);
    assert_eq!(fs::read(log.path()).unwrap(), bytes);
}

#[test]
fn a_damaged_last_line_is_refused_and_left_alone() {
    let log = log();
    let mut lines = log.lines();
    let n = lines.len();
    lines[n - 1] = b"{\"kind\":\"oops\"}".to_vec();
    log.set_lines(&lines);
    let before = fs::read(log.path()).unwrap();
    let err = AuditWriter::open(log.dir.path(), LogId([0; 16]), at(99)).unwrap_err();
    assert!(err.to_string().contains("cannot be extended"), "{err}");
    assert_eq!(fs::read(log.path()).unwrap(), before);
}

#[test]
fn a_second_writer_is_locked_out() {
    let log = log();
    let (_w, _) = AuditWriter::open(log.dir.path(), LogId([0; 16]), at(99)).unwrap();
    let err = AuditWriter::open(log.dir.path(), LogId([0; 16]), at(99)).unwrap_err();
    assert!(matches!(err, redoubt_audit::Error::Locked(_)), "{err}");
}

#[test]
fn an_oversized_record_is_refused_and_nothing_is_written() {
    let log = log();
    let before = fs::read(log.path()).unwrap();
    let (mut w, _) = AuditWriter::open(log.dir.path(), LogId([0; 16]), at(99)).unwrap();
    let mut e = entry(1);
    e.reasons = vec!["r".repeat(70 * 1024)];
    assert!(matches!(w.append(&e, at(100)), Err(redoubt_audit::Error::Record(_))));
    drop(w);
    assert_eq!(fs::read(log.path()).unwrap(), before);
}

#[test]
fn reopening_continues_the_same_chain() {
    let log = log();
    let (mut w, rec) = AuditWriter::open(log.dir.path(), LogId([9; 16]), at(99)).unwrap();
    assert_eq!((rec, w.log_id()), (None, LogId([7; 16])));
    assert!(!w.needs_checkpoint());
    w.append(&entry(1), at(100)).unwrap();
    assert!(w.needs_checkpoint());
    w.checkpoint(&log.signer, at(100)).unwrap();
    drop(w);
    assert!(log.verify_anchored().is_ok());
}
