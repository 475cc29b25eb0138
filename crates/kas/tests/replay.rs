//! The replay guard: replays refused, expiry forgets, a full guard refuses rather than evicts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use proptest::prelude::*;
use redoubt_kas::{KasError, Replay, ReplayGuard};

const NOW: i64 = 1_700_000_000;

fn d(n: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[..4].copy_from_slice(&n.to_be_bytes());
    out
}

#[test]
fn the_same_token_twice_is_a_replay() {
    let mut g = ReplayGuard::default();
    g.check_and_insert(d(1), NOW + 60, NOW).unwrap();
    assert_eq!(g.check_and_insert(d(1), NOW + 60, NOW + 59), Err(Replay::Seen));
    assert_eq!(KasError::from(Replay::Seen).rule(), "kas-replay");
}

#[test]
fn after_exp_it_is_forgotten() {
    let mut g = ReplayGuard::default();
    g.check_and_insert(d(1), NOW + 60, NOW).unwrap();
    g.check_and_insert(d(2), NOW + 90, NOW).unwrap();
    assert_eq!(g.len(), 2);
    // At exp the token is dead (exp > now is required), so its digest goes.
    g.check_and_insert(d(3), NOW + 120, NOW + 60).unwrap();
    assert_eq!(g.len(), 2);
    // Presented again after exp: not remembered, not refused here (the token check refuses it).
    g.check_and_insert(d(1), NOW + 60, NOW + 61).unwrap();
    assert_eq!(g.len(), 2);
}

#[test]
fn a_full_guard_refuses_instead_of_evicting() {
    let mut g = ReplayGuard::new(3);
    for i in 0..3 {
        g.check_and_insert(d(i), NOW + 60, NOW).unwrap();
    }
    assert_eq!(g.check_and_insert(d(9), NOW + 60, NOW), Err(Replay::Full));
    assert_eq!(KasError::from(Replay::Full).to_string(), "too many requests in flight, retry in a minute");
    // Live entries are still there: a replay is still a replay, not "full".
    assert_eq!(g.check_and_insert(d(0), NOW + 60, NOW), Err(Replay::Seen));
    // Once they expire there is room again.
    g.check_and_insert(d(9), NOW + 120, NOW + 60).unwrap();
    assert_eq!(g.len(), 1);
}

#[test]
fn many_entries() {
    let mut g = ReplayGuard::default();
    let n = 100_000u32;
    for i in 0..n {
        // One new token a millisecond-ish: exp spread over 100 s.
        let now = NOW + i64::from(i / 1000);
        g.check_and_insert(d(i), now + 60, now).unwrap();
    }
    let last = NOW + i64::from((n - 1) / 1000);
    assert!(g.len() <= 61_000, "expired entries were swept: {}", g.len());
    assert_eq!(g.check_and_insert(d(n - 1), last + 60, last), Err(Replay::Seen));
    g.check_and_insert(d(n), last + 1_000, last + 1_000 - 60).unwrap();
    assert_eq!(g.len(), 1);
}

proptest! {
    /// Model check: the guard refuses exactly the digests a naive list of (digest, exp) says are live.
    #[test]
    fn agrees_with_a_naive_model(ops in proptest::collection::vec((0u32..8, 0i64..5, 1i64..6), 1..200)) {
        let mut g = ReplayGuard::new(5);
        let mut model: Vec<([u8; 32], i64)> = Vec::new();
        let mut now = NOW;
        for (digest, advance, life) in ops {
            now += advance;
            model.retain(|(_, exp)| *exp > now);
            let expected = if model.iter().any(|(m, _)| *m == d(digest)) {
                Err(Replay::Seen)
            } else if model.len() >= 5 {
                Err(Replay::Full)
            } else {
                model.push((d(digest), now + life));
                Ok(())
            };
            prop_assert_eq!(g.check_and_insert(d(digest), now + life, now), expected);
            prop_assert_eq!(g.len(), model.len());
        }
    }
}
