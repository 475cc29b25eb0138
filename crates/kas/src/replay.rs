//! The replay guard: remembers the digest of every request token until it expires, so a captured token cannot
//! be presented twice. Pure and single-threaded (the node wraps it in a mutex); `now` is passed in.
//!
//! INVARIANT: a digest is forgotten only once its token's `exp` has passed (then the token check refuses the
//! token anyway). When the guard is full of live digests it refuses new tokens ([`Replay::Full`]) instead of
//! evicting one: evicting a live digest would let that token be replayed. Cost: O(log n) per call, amortised
//! over the expired entries each call sweeps.

use std::collections::{BTreeSet, HashMap};

use crate::error::KasError;

/// Default number of live tokens remembered: 100 000 tokens of at most 60 s is over 1 600 rewraps a second.
pub const DEFAULT_REPLAY_CAPACITY: usize = 100_000;

/// Why [`ReplayGuard::check_and_insert`] refused a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// The digest was seen before and its token has not expired: a replay.
    Seen,
    /// The guard holds `capacity` live digests: too many requests in flight, retry later.
    Full,
}

impl From<Replay> for KasError {
    fn from(r: Replay) -> KasError {
        match r {
            Replay::Seen => KasError::Replay,
            Replay::Full => KasError::ReplayCacheFull,
        }
    }
}

/// Digests of the live request tokens, with their expiry.
#[derive(Debug, Clone)]
pub struct ReplayGuard {
    capacity: usize,
    /// digest → exp.
    seen: HashMap<[u8; 32], i64>,
    /// (exp, digest), ordered by expiry for the sweep. Holds exactly the entries of `seen`.
    by_expiry: BTreeSet<(i64, [u8; 32])>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(DEFAULT_REPLAY_CAPACITY)
    }
}

impl ReplayGuard {
    /// A guard remembering at most `capacity` live tokens.
    #[must_use]
    pub fn new(capacity: usize) -> ReplayGuard {
        ReplayGuard { capacity, seen: HashMap::new(), by_expiry: BTreeSet::new() }
    }

    /// Records the token `digest` (valid until `exp_unix`) at `now_unix`, or refuses it.
    ///
    /// A token already expired at `now_unix` is not remembered and not refused here: it cannot be used, and the
    /// token check ([`crate::verify_request_token`]) refuses it.
    ///
    /// # Errors
    /// [`Replay::Seen`] when the digest is remembered; [`Replay::Full`] when `capacity` live digests are held.
    pub fn check_and_insert(&mut self, digest: [u8; 32], exp_unix: i64, now_unix: i64) -> Result<(), Replay> {
        self.forget_expired(now_unix);
        if self.seen.contains_key(&digest) {
            return Err(Replay::Seen);
        }
        if exp_unix <= now_unix {
            return Ok(());
        }
        if self.seen.len() >= self.capacity {
            return Err(Replay::Full);
        }
        self.seen.insert(digest, exp_unix);
        self.by_expiry.insert((exp_unix, digest));
        Ok(())
    }

    /// Number of live digests held (as of the last call).
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no digest is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Drops every entry whose `exp` is at or before `now`.
    fn forget_expired(&mut self, now: i64) {
        while let Some(&(exp, digest)) = self.by_expiry.first() {
            if exp > now {
                break;
            }
            self.by_expiry.pop_first();
            self.seen.remove(&digest);
        }
    }
}
