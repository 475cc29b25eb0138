//! The chain rules, shared by the writer (to resume) and the verifier (to check): parsing one line in its one
//! canonical form, and accepting the next line only if it extends the chain.

use crate::canonical::{checkpoint_message, line_hash};
use crate::record::{Checkpoint, Digest, FORMAT, Header, Line, LogId, VERSION};
use crate::sign::VerifyingKey;

/// What is wrong with a line. The verifier reports the first one it meets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// No header line.
    #[error("the log is empty: it has no header line")]
    Empty,
    /// The first line is not a header of this format.
    #[error("the first line is not an audit log header: {0}")]
    BadHeader(String),
    /// The line is over the limit.
    #[error("the line is longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
    /// Not JSON, or not a record of this schema.
    #[error("the line is not a valid record: {0}")]
    Malformed(String),
    /// Valid JSON, but not byte for byte the form the writer writes.
    #[error("the line is not in canonical form: it was edited")]
    NotCanonical,
    /// A schema version this build does not read.
    #[error("schema version {0} is not supported")]
    Version(u32),
    /// A header after the first line.
    #[error("a header line inside the log: another log was spliced in")]
    ExtraHeader,
    /// A sequence number out of order.
    #[error("sequence {found} where {expected} was expected: lines were deleted, inserted or reordered")]
    Sequence {
        /// The next sequence number.
        expected: u64,
        /// The one found.
        found: u64,
    },
    /// `prev` does not match the hash of the previous line.
    #[error(
        "the hash chain is broken: `prev` does not match the previous line (the previous line was modified, \
         or lines were deleted, inserted or reordered)"
    )]
    Chain,
    /// A checkpoint whose signature does not verify.
    #[error("the checkpoint signature does not verify: the checkpoint or the log was forged")]
    Signature,
    /// A checkpoint signed by another key.
    #[error(
        "the checkpoint is signed by another key (key id {0}); pass the certificate of the node that wrote it"
    )]
    WrongKey(crate::record::KeyId),
    /// The anchor (the separately kept last checkpoint) is not a checkpoint of this log.
    #[error("the head checkpoint is not a valid checkpoint of this log: {0}")]
    BadAnchor(String),
    /// The log ends before the anchor's sequence.
    #[error(
        "the log ends at {end} lines but a signed checkpoint attests sequence {anchored}: the log was truncated"
    )]
    Truncated {
        /// Number of sequenced lines in the log.
        end: u64,
        /// The anchor's sequence.
        anchored: u64,
    },
    /// The line at the anchor's sequence is not the anchor.
    #[error("the line differs from the signed head checkpoint at the same sequence: the log was rewritten")]
    AnchorMismatch,
}

/// Parses one line (without its `\n`), refusing any form other than the canonical one.
///
/// # Errors
/// [`ProblemKind::Malformed`], [`ProblemKind::NotCanonical`] or [`ProblemKind::Version`].
pub fn parse_line(bytes: &[u8]) -> Result<Line, ProblemKind> {
    let line: Line = serde_json::from_slice(bytes).map_err(|e| ProblemKind::Malformed(e.to_string()))?;
    let v = match &line {
        Line::Header(h) => h.v,
        Line::Decision(d) => d.v,
        Line::Checkpoint(c) => c.v,
    };
    if v != VERSION {
        return Err(ProblemKind::Version(v));
    }
    let again = encode_line(&line).map_err(|e| ProblemKind::Malformed(e.to_string()))?;
    if again != bytes {
        return Err(ProblemKind::NotCanonical);
    }
    Ok(line)
}

/// The one JSON form of a line (without its `\n`).
///
/// # Errors
/// When a time cannot be written as RFC 3339 (a year outside 0000–9999).
pub fn encode_line(line: &Line) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(line)
}

/// The state after a valid prefix of a log: which log, the next sequence number and the chain head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// The log's id, from its header.
    pub log_id: LogId,
    /// Sequence number the next line must carry.
    pub next_seq: u64,
    /// Hash of the last line: the next line's `prev`.
    pub head: Digest,
}

impl Chain {
    /// The chain of a log that starts with `line`.
    ///
    /// # Errors
    /// [`ProblemKind::BadHeader`] when `line` is not a header of this format.
    pub fn start(line: &Line) -> Result<Self, ProblemKind> {
        match line {
            Line::Header(h) => Self::from_header(h),
            _ => Err(ProblemKind::BadHeader("it is a record, not a header".into())),
        }
    }

    /// The chain of a log with this header.
    ///
    /// # Errors
    /// [`ProblemKind::BadHeader`] when the format is not this one.
    pub fn from_header(h: &Header) -> Result<Self, ProblemKind> {
        if h.format != FORMAT {
            return Err(ProblemKind::BadHeader(format!("format `{}`", h.format)));
        }
        Ok(Self { log_id: h.log_id, next_seq: 0, head: line_hash(&Line::Header(h.clone())) })
    }

    /// Checks that `line` extends the chain (and, for a checkpoint, that `key` signed it), then advances.
    /// On error the chain is unchanged.
    ///
    /// # Errors
    /// The first rule `line` breaks.
    pub fn accept(&mut self, line: &Line, key: &VerifyingKey) -> Result<Digest, ProblemKind> {
        self.check_link(line)?;
        if let Line::Checkpoint(c) = line {
            check_signature(&self.log_id, c, key)?;
        }
        let hash = line_hash(line);
        self.next_seq = self.next_seq.saturating_add(1);
        self.head = hash;
        Ok(hash)
    }

    /// Advances over `line` checking only the link (sequence and `prev`), not signatures: the writer's rule
    /// when it resumes (it holds no verification key for past checkpoints and has nothing to decide on them).
    ///
    /// # Errors
    /// The link rule `line` breaks.
    pub fn accept_unsigned(&mut self, line: &Line) -> Result<Digest, ProblemKind> {
        self.check_link(line)?;
        let hash = line_hash(line);
        self.next_seq = self.next_seq.saturating_add(1);
        self.head = hash;
        Ok(hash)
    }

    fn check_link(&self, line: &Line) -> Result<(), ProblemKind> {
        let (Some(seq), Some(prev)) = (line.seq(), line.prev()) else {
            return Err(ProblemKind::ExtraHeader);
        };
        if seq != self.next_seq {
            return Err(ProblemKind::Sequence { expected: self.next_seq, found: seq });
        }
        if prev != self.head {
            return Err(ProblemKind::Chain);
        }
        Ok(())
    }
}

/// Checks a checkpoint's signature for the log `log_id`.
///
/// # Errors
/// [`ProblemKind::Signature`] or [`ProblemKind::WrongKey`].
pub fn check_signature(log_id: &LogId, c: &Checkpoint, key: &VerifyingKey) -> Result<(), ProblemKind> {
    let msg = checkpoint_message(log_id, c.seq, c.time, &c.key_id, &c.prev);
    if key.verify(&msg, &c.sig) {
        Ok(())
    } else if c.key_id != key.key_id() {
        Err(ProblemKind::WrongKey(c.key_id))
    } else {
        Err(ProblemKind::Signature)
    }
}
