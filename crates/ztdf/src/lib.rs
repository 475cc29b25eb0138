//! The OpenTDF / ZTDF container (NATO ACP-240): a streaming writer and reader over `std::io`, payload
//! encryption (AES-256-GCM segments), integrity (segment hashes, root signature), key access objects
//! (RSA-OAEP `wrapped`, ECDH `ec-wrapped`, key splitting, encrypted metadata), the policy and its binding,
//! and assertions bound with JWS (where the STANAG 4774 confidentiality label travels).
//!
//! This crate owns the container format and its cryptography, nothing else. It must never open a socket,
//! read the clock or the OS random generator on its own: every random byte comes from the
//! [`RandomSource`] the caller passes in (the one exception, RSA-OAEP padding inside aws-lc-rs, is documented
//! on [`KasPublicKey`]). It must never release plaintext of a segment whose integrity it has not checked, and
//! never keep key material in memory that is not zeroized on drop.
//!
//! Entry points: [`TdfWriter`] (encrypt, streaming, implements [`std::io::Write`]), [`TdfReader`] (open and
//! check the structure without keys), [`TdfReader::unwrap_payload_key`] then [`TdfReader::decryptor`]
//! (verify and decrypt, sequentially, in parallel, or by segment / byte range), and [`inspect()`]. Buffer to
//! buffer, parallel end to end: [`encrypt_in_memory`], and [`Decryptor::decrypt_into_slice`] /
//! [`Decryptor::decrypt_into_vec`] for a container opened over a [`std::io::Cursor`].

pub mod assertion;
mod b64;
mod error;
pub mod inspect;
pub mod key;
mod layout;
mod limits;
pub mod manifest;
mod memory;
mod parallel;
pub mod policy;
mod rand;
mod reader;
mod segment;
mod writer;
pub mod zip;

pub use assertion::{
    Assertion, AssertionConfig, AssertionSigner, AssertionVerification, AssertionVerifier, Statement,
};
pub use error::{Error, IntegrityError};
pub use inspect::{Inspection, inspect, inspect_with_spif};
pub use key::{
    Curve, KasPrivateKey, KasPublicKey, KasTarget, KeyShare, PayloadKey, SplitMode, derive_wrap_key,
    open_share, seal_share, unwrap_key_access, wrap_key_access, wrap_rsa,
};
pub use limits::ReadLimits;
pub use manifest::Manifest;
pub use memory::encrypt_in_memory;
pub use policy::Policy;
pub use rand::RandomSource;
pub use rand::SystemRandomSource;
pub use reader::{Decryptor, PlaintextReader, SegmentInfo, TdfReader, Unwrapped, VerifyOptions};
pub use segment::SegmentHashAlg;
pub use writer::{EncryptConfig, TdfWriter, WriteSummary};

/// Stored bytes added to every segment: the 12-byte IV before the ciphertext and the 16-byte GCM tag after.
pub const SEGMENT_OVERHEAD: u64 = 28;
/// Smallest plaintext segment size the writer accepts (the reference SDKs' bound).
pub const MIN_SEGMENT_SIZE: u32 = 16 * 1024;
/// Largest plaintext segment size the writer accepts (the reference SDKs' bound).
pub const MAX_SEGMENT_SIZE: u32 = 4 * 1024 * 1024;
/// Default plaintext segment size (the reference SDKs' default).
pub const DEFAULT_SEGMENT_SIZE: u32 = 2 * 1024 * 1024;
/// Manifest `schemaVersion` this crate writes. Do not change: it selects the raw (non-hex) hash encodings.
pub const SCHEMA_VERSION: &str = "4.3.0";
/// Name of the payload entry in the ZIP. Do not change: every SDK looks for it.
pub const PAYLOAD_ENTRY: &str = "0.payload";
/// Name of the manifest entry in the ZIP. Do not change: every SDK looks for it.
pub const MANIFEST_ENTRY: &str = "0.manifest.json";
