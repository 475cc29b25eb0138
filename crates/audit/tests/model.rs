//! Model-based property test: any sequence of appends and checkpoints (ending with a checkpoint, as the node does
//! at shutdown) verifies; then any single mutation of the file (a byte changed, a line deleted, duplicated or
//! moved, the file cut anywhere) is detected when verifying against the head checkpoint.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use std::fs;

use common::{Log, at, entry};
use proptest::prelude::*;
use redoubt_audit::{AuditWriter, LogId};

#[derive(Debug, Clone)]
enum Op {
    Append(u64),
    Checkpoint,
}

#[derive(Debug, Clone)]
enum Mutation {
    SetByte { at: prop::sample::Index, value: u8 },
    DeleteLine(prop::sample::Index),
    DuplicateLine { from: prop::sample::Index, to: prop::sample::Index },
    MoveLine { from: prop::sample::Index, to: prop::sample::Index },
    Cut(prop::sample::Index),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![4 => (0u64..1000).prop_map(Op::Append), 1 => Just(Op::Checkpoint)],
        0..24,
    )
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(at, value)| Mutation::SetByte { at, value }),
        1 => any::<prop::sample::Index>().prop_map(Mutation::DeleteLine),
        1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(from, to)| Mutation::DuplicateLine { from, to }),
        1 => (any::<prop::sample::Index>(), any::<prop::sample::Index>())
            .prop_map(|(from, to)| Mutation::MoveLine { from, to }),
        1 => any::<prop::sample::Index>().prop_map(Mutation::Cut),
    ]
}

fn build(ops: &[Op]) -> (Log, u64) {
    let dir = tempfile::tempdir().unwrap();
    let signer = common::signer();
    let (mut w, _) = AuditWriter::open(dir.path(), LogId([3; 16]), at(0)).unwrap();
    let mut decisions = 0;
    for (t, op) in ops.iter().enumerate() {
        match op {
            Op::Append(i) => {
                w.append(&entry(*i), at(t as u64)).unwrap();
                decisions += 1;
            }
            Op::Checkpoint => {
                w.checkpoint(&signer, at(t as u64)).unwrap();
            }
        }
    }
    if w.needs_checkpoint() {
        w.checkpoint(&signer, at(ops.len() as u64)).unwrap();
    }
    drop(w);
    (Log { dir, signer }, decisions)
}

/// Applies the mutation; returns false when it happens to leave the file unchanged.
fn mutate(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = bytes.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    match m {
        Mutation::SetByte { at, value } => {
            let mut out = bytes.to_vec();
            out[at.index(bytes.len())] = *value;
            return out;
        }
        Mutation::Cut(at) => return bytes[..at.index(bytes.len())].to_vec(),
        Mutation::DeleteLine(i) => {
            lines.remove(i.index(lines.len()));
        }
        Mutation::DuplicateLine { from, to } => {
            let l = lines[from.index(lines.len())].clone();
            lines.insert(to.index(lines.len() + 1), l);
        }
        Mutation::MoveLine { from, to } => {
            let l = lines.remove(from.index(lines.len()));
            lines.insert(to.index(lines.len() + 1), l);
        }
    }
    lines.concat()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_single_mutation_is_detected(ops in ops(), m in mutation()) {
        let (log, decisions) = build(&ops);
        let clean = log.verify_anchored();
        prop_assert!(clean.is_ok(), "{:?}", clean.problem);
        prop_assert_eq!((clean.decisions, clean.unsigned), (decisions, 0));

        let original = fs::read(log.path()).unwrap();
        let tampered = mutate(&original, &m);
        prop_assume!(tampered != original);
        fs::write(log.path(), &tampered).unwrap();
        let r = log.verify_anchored();
        if [tampered.as_slice(), b"\n"].concat() == original {
            // Only the final newline is gone: every record is intact (the writer restores the newline on open),
            // so the verifier accepts the log and says what is missing.
            prop_assert!(r.is_ok() && r.missing_final_newline, "{:?}", r.problem);
        } else {
            prop_assert!(!r.is_ok(), "undetected: {:?}", m);
        }
    }

    #[test]
    fn query_returns_exactly_the_matching_decisions(ops in ops()) {
        let (log, _) = build(&ops);
        let filter = redoubt_audit::Filter {
            identity: Some("bob".into()),
            decision: Some(redoubt_audit::Decision::Allow),
            object_prefix: Some("mission/reports/1".into()),
            ..Default::default()
        };
        let got: Vec<_> = redoubt_audit::query(fs::File::open(log.path()).unwrap(), filter)
            .map(|h| h.unwrap().record.entry.request_id)
            .collect();
        let want: Vec<_> = ops
            .iter()
            .filter_map(|op| match op { Op::Append(i) => Some(*i), Op::Checkpoint => None })
            .filter(|i| i % 4 == 1 && format!("reports/{i}").starts_with("reports/1"))
            .map(|i| format!("req-{i}"))
            .collect();
        prop_assert_eq!(got, want);
    }
}
