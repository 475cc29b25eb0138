//! Query: the decision records of a log that match a filter, as an iterator over any reader.
//!
//! A query reads; it does not prove. It skips the header and checkpoints, ignores a torn last line, and yields
//! an error for a line that is not a valid record (then goes on). Run [`crate::verify`] to know the log is intact.

use std::io::{BufReader, Read};

use time::OffsetDateTime;

use crate::chain::parse_line;
use crate::error::{Error, Result};
use crate::lines::{LineReader, MAX_LINE};
use crate::record::{Decision, DecisionRecord, Line};

/// Which records to return; every field set must match (an empty filter matches everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Records at or after this time.
    pub from: Option<OffsetDateTime>,
    /// Records strictly before this time.
    pub to: Option<OffsetDateTime>,
    /// Identity name, exactly.
    pub identity: Option<String>,
    /// Role, exactly.
    pub role: Option<String>,
    /// Action, exactly.
    pub action: Option<String>,
    /// Allow or deny.
    pub decision: Option<Decision>,
    /// Prefix of [`crate::Object::path`] (`bucket/key` or `stream:id`); records without an object never match.
    pub object_prefix: Option<String>,
}

impl Filter {
    /// Whether `r` matches.
    #[must_use]
    pub fn matches(&self, r: &DecisionRecord) -> bool {
        let e = &r.entry;
        self.from.is_none_or(|t| r.time >= t)
            && self.to.is_none_or(|t| r.time < t)
            && self.identity.as_ref().is_none_or(|n| &e.who.name == n)
            && self.role.as_ref().is_none_or(|n| &e.who.role == n)
            && self.action.as_ref().is_none_or(|a| &e.action == a)
            && self.decision.is_none_or(|d| e.decision == d)
            && self
                .object_prefix
                .as_ref()
                .is_none_or(|p| e.object.as_ref().is_some_and(|o| o.path().starts_with(p.as_str())))
    }
}

/// Parses an RFC 3339 time (with any offset) for a [`Filter`] bound, e.g. from a command line.
///
/// # Errors
/// A message naming the text when it is not RFC 3339.
pub fn parse_time(text: &str) -> std::result::Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| format!("`{text}` is not an RFC 3339 time such as 2026-01-31T12:00:00Z"))
}

/// A matching record and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// 1-based line number.
    pub line: u64,
    /// Byte offset of the line.
    pub offset: u64,
    /// The record.
    pub record: DecisionRecord,
}

/// Iterator over the records of a log that match a [`Filter`].
#[derive(Debug)]
pub struct Query<R> {
    lines: LineReader<BufReader<R>>,
    filter: Filter,
    failed: bool,
}

/// The records of the log in `reader` that match `filter`, in log order.
pub fn query<R: Read>(reader: R, filter: Filter) -> Query<R> {
    Query { lines: LineReader::new(BufReader::with_capacity(MAX_LINE, reader)), filter, failed: false }
}

impl<R: Read> Iterator for Query<R> {
    type Item = Result<Hit>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let raw = match self.lines.next_line() {
                Ok(Some(raw)) => raw,
                Ok(None) => return None,
                Err(e) => {
                    // An I/O error does not go away by reading on.
                    self.failed = true;
                    return Some(Err(Error::Io(e)));
                }
            };
            let bad = |reason: String| Error::BadLine { line: raw.number, offset: raw.offset, reason };
            if raw.too_long {
                return Some(Err(bad(format!("it is longer than {MAX_LINE} bytes"))));
            }
            match parse_line(&raw.bytes) {
                Ok(Line::Decision(record)) if self.filter.matches(&record) => {
                    return Some(Ok(Hit { line: raw.number, offset: raw.offset, record }));
                }
                Ok(_) => {}
                Err(_) if !raw.terminated => return None,
                Err(e) => return Some(Err(bad(e.to_string()))),
            }
        }
    }
}
