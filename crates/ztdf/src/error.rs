//! Errors of this crate. Three kinds are kept apart: the container misbehaved (malformed or tampered input),
//! the caller misused the API (bad configuration or key), and an integrity or key-access failure, which callers
//! report as a negative answer rather than as unreadable input.

/// Every error this crate returns. Messages are lower-case, name no Rust type and say what went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the source or writing the sink failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The ZIP structure is malformed.
    #[error("not a valid ZTDF container: {0}")]
    Zip(String),
    /// The manifest is malformed or inconsistent with the payload.
    #[error("invalid manifest: {0}")]
    Manifest(String),
    /// A bound on memory or size was hit (hostile or oversized input).
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// A check of integrity failed: the container was tampered with or corrupted.
    #[error("integrity check failed: {0}")]
    Integrity(#[from] IntegrityError),
    /// No key access object could be unwrapped with the keys given.
    #[error("cannot recover the payload key: {0}")]
    KeyAccess(String),
    /// The container uses a feature or algorithm this crate does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A key given by the caller is malformed or of the wrong kind.
    #[error("invalid key: {0}")]
    Key(String),
    /// A label carried by (or given for) the container is not a valid label.
    #[error("invalid label: {0}")]
    Label(String),
    /// The caller's configuration is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The random source failed; nothing was written with predictable key material.
    #[error("the random source failed")]
    Random,
    /// A cryptographic primitive failed where it cannot on valid input (a bug or a broken library).
    #[error("cryptographic operation failed: {0}")]
    Crypto(&'static str),
}

impl Error {
    /// True when the error is a negative answer about the container (tampered, corrupted, or no key access
    /// object could be unwrapped with the keys given), as opposed to unreadable input or misuse.
    #[must_use]
    pub fn is_integrity_or_access(&self) -> bool {
        matches!(self, Error::Integrity(_) | Error::KeyAccess(_))
    }
}

/// Which integrity check failed. Each names the part of the container that does not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntegrityError {
    /// A segment's hash or GCM tag does not verify; no plaintext of it was released.
    #[error("segment {index} of {count} does not verify (hash or authentication tag mismatch)")]
    Segment {
        /// Index of the segment, from 0.
        index: usize,
        /// Number of segments in the payload.
        count: usize,
    },
    /// The root signature does not match the segment hashes.
    #[error("the root signature does not match the segment hashes")]
    RootSignature,
    /// A key access object's policy binding does not match the policy.
    #[error("the policy binding of key access object {index} (`{url}`) does not match the policy")]
    PolicyBinding {
        /// Index of the key access object in the manifest.
        index: usize,
        /// Its KAS URL.
        url: String,
    },
    /// The key shares unwrapped do not reconstruct a key that verifies the payload.
    #[error("the payload key reconstructed from the key shares does not verify")]
    PayloadKey,
    /// An assertion's binding does not verify.
    #[error("assertion `{id}` does not verify: {reason}")]
    Assertion {
        /// The assertion's id.
        id: String,
        /// What failed.
        reason: String,
    },
    /// A key access object's encrypted metadata does not decrypt under its key share.
    #[error("the encrypted metadata of key access object {index} does not verify")]
    Metadata {
        /// Index of the key access object in the manifest.
        index: usize,
    },
    /// The payload is not the size the manifest declares, or the stream ended early.
    #[error("the payload is {actual} bytes but the manifest declares {declared}")]
    PayloadSize {
        /// Bytes the manifest declares.
        declared: u64,
        /// Bytes found.
        actual: u64,
    },
    /// The ZIP entry's CRC-32 does not match its content.
    #[error("the CRC-32 of entry `{0}` does not match its content")]
    Crc(String),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
