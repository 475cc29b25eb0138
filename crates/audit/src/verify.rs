//! The verifier: walks a whole log, checks every line's form, sequence, hash link and every checkpoint's
//! signature, and reports the first bad line, or what the log proves.
//!
//! What it can prove: everything up to the last valid checkpoint is exactly what the node key signed. Lines after
//! it are chained but unsigned: anyone who can write the file could have rewritten or dropped them
//! ([`Report::unsigned`]). Cutting the log back to an earlier checkpoint is only visible against an anchor, a
//! copy of a later checkpoint kept elsewhere ([`verify_anchored`]; the node keeps one in `checkpoint.json`).

use std::io::{BufReader, Read};

use time::OffsetDateTime;

use crate::canonical::line_hash;
use crate::chain::{Chain, ProblemKind, check_signature, parse_line};
use crate::error::Result;
use crate::lines::{LineReader, MAX_LINE, RawLine};
use crate::record::{Checkpoint, Digest, Line, LogId};
use crate::sign::VerifyingKey;

/// The first bad line: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Sequence number of the line, when it could be read (absent for the header or an unreadable line).
    pub seq: Option<u64>,
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line's start.
    pub offset: u64,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.seq {
            Some(seq) => write!(f, "record {seq} (line {}, byte {}): {}", self.line, self.offset, self.kind),
            None => write!(f, "line {} (byte {}): {}", self.line, self.offset, self.kind),
        }
    }
}

/// The last valid checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    /// Its sequence number.
    pub seq: u64,
    /// When it was signed.
    pub time: OffsetDateTime,
    /// Its line number.
    pub line: u64,
    /// The chain head it signs.
    pub head: Digest,
}

/// Bytes after the last `\n` that are not a complete record: a crash mid-append. Not an integrity failure (no
/// complete record is in them); the writer removes them when it next opens the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Where they start.
    pub offset: u64,
    /// How many bytes.
    pub len: u64,
}

/// What the verifier found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Report {
    /// The log's id, when the header was read.
    pub log_id: Option<LogId>,
    /// Valid decision records.
    pub decisions: u64,
    /// Valid checkpoints.
    pub checkpoints: u64,
    /// Sequence number of the last valid line.
    pub last_seq: Option<u64>,
    /// Hash of the last valid line.
    pub head: Option<Digest>,
    /// The last valid checkpoint.
    pub last_checkpoint: Option<CheckpointInfo>,
    /// Valid lines after the last checkpoint: chained but not signed, so not provable.
    pub unsigned: u64,
    /// An incomplete last line.
    pub torn_tail: Option<TornTail>,
    /// The last line lacked its `\n` but was otherwise a valid record (accepted).
    pub missing_final_newline: bool,
    /// The first bad line; `None` when the log verifies.
    pub problem: Option<Problem>,
}

impl Report {
    /// Whether the log verifies (a torn tail or an unsigned tail do not make it fail; see their fields).
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies a whole log with the node's public key.
///
/// # Errors
/// Only reading errors; integrity failures are in [`Report::problem`].
pub fn verify<R: Read>(reader: R, key: &VerifyingKey) -> Result<Report> {
    verify_anchored(reader, key, None)
}

/// Verifies a whole log and also requires it to contain `anchor`, a checkpoint kept apart from the log
/// (catches truncation back to an earlier checkpoint).
///
/// # Errors
/// Only reading errors; integrity failures are in [`Report::problem`].
pub fn verify_anchored<R: Read>(
    reader: R,
    key: &VerifyingKey,
    anchor: Option<&Checkpoint>,
) -> Result<Report> {
    let mut lines = LineReader::new(BufReader::with_capacity(MAX_LINE, reader));
    let mut report = Report::default();
    let mut chain: Option<Chain> = None;
    let mut anchor_seen = false;
    while let Some(raw) = lines.next_line()? {
        let fail = |seq, kind| Problem { seq, line: raw.number, offset: raw.offset, kind };
        if raw.too_long {
            report.problem = Some(fail(None, ProblemKind::TooLong { limit: MAX_LINE }));
            return Ok(report);
        }
        let parsed = parse_line(&raw.bytes);
        let Some(ch) = chain.as_mut() else {
            // The header.
            match parsed.and_then(|l| Chain::start(&l)) {
                Ok(c) if raw.terminated => {
                    if let Some(a) = anchor
                        && let Err(e) = check_signature(&c.log_id, a, key)
                    {
                        report.problem = Some(fail(None, ProblemKind::BadAnchor(e.to_string())));
                        return Ok(report);
                    }
                    report.log_id = Some(c.log_id);
                    chain = Some(c);
                }
                Ok(_) => {
                    report.problem = Some(fail(None, ProblemKind::BadHeader("it is incomplete".into())));
                    return Ok(report);
                }
                Err(ProblemKind::BadHeader(m)) => {
                    report.problem = Some(fail(None, ProblemKind::BadHeader(m)));
                    return Ok(report);
                }
                Err(e) => {
                    report.problem = Some(fail(None, ProblemKind::BadHeader(e.to_string())));
                    return Ok(report);
                }
            }
            continue;
        };
        let accepted = parsed.and_then(|line| {
            let hash = ch.accept(&line, key)?;
            Ok((line, hash))
        });
        let (line, hash) = match accepted {
            Ok(x) => x,
            Err(_) if !raw.terminated => {
                report.torn_tail = Some(torn(&raw));
                break;
            }
            Err(kind) => {
                let seq = claimed_seq(&raw.bytes);
                report.problem = Some(fail(seq, kind));
                return Ok(report);
            }
        };
        report.missing_final_newline = !raw.terminated;
        report.last_seq = line.seq();
        report.head = Some(hash);
        match &line {
            Line::Decision(_) => {
                report.decisions += 1;
                report.unsigned += 1;
            }
            Line::Checkpoint(c) => {
                report.checkpoints += 1;
                report.unsigned = 0;
                report.last_checkpoint =
                    Some(CheckpointInfo { seq: c.seq, time: c.time, line: raw.number, head: c.prev });
            }
            Line::Header(_) => {}
        }
        if let Some(a) = anchor
            && line.seq() == Some(a.seq)
        {
            if hash != line_hash(&Line::Checkpoint(a.clone())) {
                report.problem = Some(fail(line.seq(), ProblemKind::AnchorMismatch));
                return Ok(report);
            }
            anchor_seen = true;
        }
    }
    let Some(ch) = chain else {
        report.problem = Some(Problem { seq: None, line: 1, offset: 0, kind: ProblemKind::Empty });
        return Ok(report);
    };
    if let Some(a) = anchor
        && !anchor_seen
    {
        let end = ch.next_seq;
        let line = report.last_seq.map_or(2, |s| s.saturating_add(3));
        report.problem = Some(Problem {
            seq: Some(end),
            line,
            offset: report.torn_tail.as_ref().map_or(lines.offset(), |t| t.offset),
            kind: ProblemKind::Truncated { end, anchored: a.seq },
        });
    }
    Ok(report)
}

/// The sequence number a bad line claims, for the report only (it is not trusted for anything else).
fn claimed_seq(bytes: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Claimed {
        seq: Option<u64>,
    }
    serde_json::from_slice::<Claimed>(bytes).ok().and_then(|c| c.seq)
}

fn torn(raw: &RawLine) -> TornTail {
    TornTail { offset: raw.offset, len: raw.len }
}
