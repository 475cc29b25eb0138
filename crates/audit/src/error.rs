//! Errors of the audit crate. Integrity findings of the verifier are not errors: they are [`crate::Problem`]s in
//! a [`crate::Report`]. An [`Error`] means the operation could not be carried out at all.

use std::io;

/// Why an audit operation could not be carried out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file system failed (reading, writing, syncing, locking).
    #[error("audit log i/o failed: {0}")]
    Io(#[from] io::Error),
    /// A key or certificate could not be used.
    #[error("{0}")]
    Key(String),
    /// Signing a checkpoint failed.
    #[error("signing the checkpoint failed")]
    Sign,
    /// The caller passed a record that cannot be stored (too large, or a time out of range).
    #[error("the audit record cannot be stored: {0}")]
    Record(String),
    /// The existing log cannot be extended safely; it is left untouched.
    #[error("the audit log `{path}` cannot be extended: {reason}; run `redoubt audit verify` on it")]
    Damaged {
        /// The log file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Another writer holds the log.
    #[error("the audit log `{0}` is in use by another process")]
    Locked(String),
    /// A line of a log being queried is not a valid record.
    #[error("line {line} (byte {offset}) of the audit log is not a valid record: {reason}")]
    BadLine {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's start.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
