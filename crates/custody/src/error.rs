//! Why a custody operation failed. Messages name the key or file, never key material or a PIN, and say what
//! to do. [`CustodyError::Unwrap`] deliberately says nothing about why a wrapped key did not open (no padding
//! oracle).

use std::path::PathBuf;

use crate::algorithm::Algorithm;

/// A custody error.
#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    /// No version with this kid was ever made here.
    #[error("no KAS key `{0}` in this custody: the object was wrapped to a key this node does not hold")]
    UnknownKid(String),
    /// The version was shredded.
    #[error(
        "the KAS key `{kid}` was shredded (unix time {when}): what was wrapped only to it cannot be opened any more"
    )]
    Shredded {
        /// The kid.
        kid: String,
        /// When, unix seconds.
        when: i64,
    },
    /// The key access object's type does not fit the key's algorithm.
    #[error("the KAS key `{kid}` is {algorithm} and cannot unwrap a `{kind}` key access object")]
    WrongKeyType {
        /// The kid.
        kid: String,
        /// The key's algorithm.
        algorithm: Algorithm,
        /// The object's type.
        kind: String,
    },
    /// The wrapped key does not open with this key (wrapped to another key, or corrupt).
    #[error(
        "the wrapped key does not open with the KAS key `{kid}`: it was wrapped to another key or is corrupt"
    )]
    Unwrap {
        /// The kid.
        kid: String,
    },
    /// The key-encryption key is missing, malformed or not the one the keys were made with.
    #[error("{0}")]
    Kek(String),
    /// A file of the custody could not be read or written, or is unsafe.
    #[error("`{path}`: {message}")]
    Storage {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong and what to do.
        message: String,
    },
    /// The PKCS#11 module or token failed.
    #[error("PKCS#11 {op}: {message}")]
    Pkcs11 {
        /// The operation (`load module`, `login`, `decrypt`, …).
        op: &'static str,
        /// What went wrong and what to do.
        message: String,
    },
    /// Malformed input (a key access object, an imported key, an algorithm name).
    #[error("{0}")]
    Invalid(String),
}

impl CustodyError {
    /// A storage error for `path`.
    pub(crate) fn storage(path: &std::path::Path, message: impl Into<String>) -> Self {
        CustodyError::Storage { path: path.to_path_buf(), message: message.into() }
    }
}
