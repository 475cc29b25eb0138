//! `DIR/keyring.json`: the list of key versions and their state, shared by both backends, written atomically
//! with mode 0600. Format version 1:
//!
//! ```json
//! { "version": 1, "backend": "file",
//!   "kek": { "source": "key" | "passphrase", "salt": "<b64, passphrase only>",
//!            "iterations": 600000, "check": "<b64 nonce||ct||tag>" },
//!   "token": "<PKCS#11 token label, pkcs11 only>",
//!   "keys": [ { "kid": "p256-1", "algorithm": "ec:secp256r1", "state": "active", "created_unix": 1700000000 },
//!             { "kid": "p256-2", "algorithm": "ec:secp256r1", "state": "shredded", "created_unix": 1700000100,
//!               "shredded_unix": 1700000200 } ] }
//! ```
//!
//! `keys` is in creation order and never loses an entry (shredded versions stay so their kid is never reused).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::algorithm::KeyInfo;
use crate::error::CustodyError;
use crate::fsx;

/// Name of the keyring in the custody folder. Do not change: persisted.
pub const KEYRING_FILE: &str = "keyring.json";
/// The format version this crate writes and reads. Do not change without a migration.
pub const KEYRING_VERSION: u32 = 1;

/// The contents of `keyring.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyring {
    /// Format version ([`KEYRING_VERSION`]).
    pub version: u32,
    /// `file` or `pkcs11`: a folder belongs to one backend.
    pub backend: String,
    /// The KEK record (file backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kek: Option<KekRecord>,
    /// The token label (PKCS#11 backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Every key version, oldest first.
    pub keys: Vec<KeyInfo>,
}

/// How the file backend's KEK is made and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KekRecord {
    /// `key` (32 raw bytes: `REDOUBT_KEK` or the `kek` file) or `passphrase` (`REDOUBT_KEK_PASSPHRASE`).
    pub source: String,
    /// PBKDF2 salt, base64 (passphrase only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// PBKDF2-HMAC-SHA256 iterations (passphrase only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u32>,
    /// AES-256-GCM of a constant under the KEK, base64 of nonce || ciphertext || tag: a wrong KEK fails here.
    pub check: String,
}

/// The keyring's path in `dir`.
#[must_use]
pub fn path(dir: &Path) -> PathBuf {
    dir.join(KEYRING_FILE)
}

/// Reads the keyring of `dir`; `None` when there is none yet.
///
/// # Errors
/// [`CustodyError::Storage`] when it is unreadable, readable by others, malformed, of another version or of
/// another backend.
pub fn load(dir: &Path, backend: &str) -> Result<Option<Keyring>, CustodyError> {
    let p = path(dir);
    if !p.exists() {
        return Ok(None);
    }
    let bytes = fsx::read_private(&p)?;
    let ring: Keyring = serde_json::from_slice(&bytes).map_err(|e| {
        CustodyError::storage(&p, format!("is not a valid keyring ({e}); restore it from a backup"))
    })?;
    if ring.version != KEYRING_VERSION {
        return Err(CustodyError::storage(
            &p,
            format!(
                "has format version {} but this build reads version {KEYRING_VERSION}: run the matching release",
                ring.version
            ),
        ));
    }
    if ring.backend != backend {
        return Err(CustodyError::storage(
            &p,
            format!(
                "belongs to the `{}` key custody, not `{backend}`: choose that backend or another key folder",
                ring.backend
            ),
        ));
    }
    Ok(Some(ring))
}

/// Writes the keyring of `dir` atomically and durably (mode 0600).
///
/// # Errors
/// [`CustodyError::Storage`].
pub fn save(dir: &Path, ring: &Keyring) -> Result<(), CustodyError> {
    let p = path(dir);
    let mut bytes = serde_json::to_vec_pretty(ring)
        .map_err(|e| CustodyError::storage(&p, format!("cannot encode the keyring: {e}")))?;
    bytes.push(b'\n');
    fsx::write_atomic(&p, &bytes)
}
