//! Redoubt's audit trail: a hash-chained, append-only log of access decisions, signed at checkpoints by the node
//! key, with a verifier that names the first bad record and a query over the records.
//!
//! It owns the log format (schema version 1: [`record`] for the JSON lines, [`canonical`] for the hashed form),
//! the writer ([`AuditWriter`]), the verifier ([`verify`], [`verify_anchored`]) and the query ([`query`]).
//! It must never hold object data: a record names the object and its label marking, nothing more. It takes
//! time as an argument and owns no clock, no sockets and no runtime; the only I/O is the log file itself.
//!
//! What is proven: every line up to the last checkpoint is exactly as the node key signed it (any modification,
//! deletion, insertion or reordering breaks a hash link or a signature). What is not: lines after the last
//! checkpoint (reported as unsigned), and truncation back to an earlier checkpoint unless an anchor (a later
//! checkpoint kept elsewhere, e.g. `checkpoint.json`) is given.

pub mod canonical;
pub mod chain;
mod der;
pub mod error;
pub mod lines;
pub mod query;
pub mod record;
pub mod sign;
pub mod verify;
pub mod writer;

pub use chain::ProblemKind;
pub use error::{Error, Result};
pub use query::{Filter, Hit, Query, parse_time, query};
pub use record::{
    Checkpoint, Decision, DecisionRecord, Digest, Entry, KeyId, LabelRef, Line, LogId, Object, Who,
};
pub use sign::{CheckpointSigner, NodeSigner, VerifyingKey};
pub use time::OffsetDateTime;
pub use verify::{CheckpointInfo, Problem, Report, TornTail, verify, verify_anchored};
pub use writer::{Appended, AuditWriter, HEAD_FILE, LOG_FILE, Recovery};

/// Folder of the audit log inside the node's data folder. Do not change: existing nodes keep their log there.
pub const AUDIT_DIR: &str = "audit";

/// Reads a head file (`checkpoint.json`): one checkpoint line.
///
/// # Errors
/// [`Error::BadLine`] when it is not a checkpoint in canonical form.
pub fn parse_head(bytes: &[u8]) -> Result<Checkpoint> {
    let bad = |reason: String| Error::BadLine { line: 1, offset: 0, reason };
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if text.len() > lines::MAX_LINE {
        return Err(bad("it is too long".into()));
    }
    match chain::parse_line(text).map_err(|e| bad(e.to_string()))? {
        Line::Checkpoint(c) => Ok(c),
        _ => Err(bad("it is not a checkpoint".into())),
    }
}
