//! The KAS key custody of a node: the private keys that unwrap key access objects, in versions per algorithm
//! (`rsa2048-1`, `p256-1`, `p384-1`, then `-2`, … on rotation), behind one trait with two backends:
//!
//! - [`FileCustody`] (the default): each private key in its own file, AES-256-GCM under a key-encryption key
//!   ([`Kek`]) from `REDOUBT_KEK`, `REDOUBT_KEK_PASSPHRASE` or, on a zero-configuration start, a `kek` file
//!   beside the keys (with a warning for the operator).
//! - [`Pkcs11Custody`]: the keys are generated inside a PKCS#11 token and never leave it; unwrapping is
//!   `C_Decrypt` (RSA-OAEP) or `C_DeriveKey` (ECDH) in the token.
//!
//! Both keep the list of versions and their state in `DIR/keyring.json` (see [`keyring`] for the format).
//!
//! INVARIANTS: private keys and PINs are never logged, printed or put in an error message; a kid is never
//! reused, even after shredding; a shredded key is recorded as shredded before its material is destroyed, so
//! a crash in between finishes the destruction at the next open; every file is written atomically.

mod algorithm;
mod der;
mod error;
mod file;
mod fsx;
mod kek;
pub mod keyring;
mod pkcs11;

pub use algorithm::{Algorithm, KeyInfo, KeyState};
pub use error::CustodyError;
pub use file::{FileCustody, KEY_FILE_SUFFIX};
pub use kek::{KEK_ENV, KEK_FILE, KEK_PASSPHRASE_ENV, Kek, PBKDF2_ITERATIONS};
pub use pkcs11::{Pkcs11Custody, SESSION_POOL_SIZE};

use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::{KasPublicKey, KeyShare};

/// Where a node's KAS keys live. One instance is shared by every thread (`Arc<dyn KeyCustody>`); every method
/// takes `&self`. [`KeyCustody::unwrap`] is the hot path and runs concurrently.
pub trait KeyCustody: Send + Sync + std::fmt::Debug {
    /// The backend's name: `file` or `pkcs11`.
    fn backend(&self) -> &'static str;

    /// Every key version, active and shredded, oldest first.
    fn list(&self) -> Vec<KeyInfo>;

    /// The newest active version of `alg` (the one new objects are wrapped to), if any.
    fn current(&self, alg: Algorithm) -> Option<KeyInfo>;

    /// The public key of a version and its SPKI DER.
    ///
    /// # Errors
    /// [`CustodyError::UnknownKid`], [`CustodyError::Shredded`].
    fn public_key(&self, kid: &str) -> Result<(KasPublicKey, Vec<u8>), CustodyError>;

    /// Unwraps the key share of a key access object with the version `kid`. Does not check the policy
    /// binding: the caller does that with the share.
    ///
    /// # Errors
    /// [`CustodyError::UnknownKid`], [`CustodyError::Shredded`], [`CustodyError::WrongKeyType`] (the object's
    /// type does not fit the key), [`CustodyError::Unwrap`] (the wrapped key does not open),
    /// [`CustodyError::Invalid`] (a malformed object), [`CustodyError::Pkcs11`] (the token failed).
    fn unwrap(&self, kid: &str, kao: &KeyAccessObject) -> Result<KeyShare, CustodyError>;

    /// Makes the next version of `alg`; it becomes [`KeyCustody::current`]. Older versions keep unwrapping.
    ///
    /// # Errors
    /// [`CustodyError::Storage`], [`CustodyError::Pkcs11`].
    fn rotate(&self, alg: Algorithm, now_unix: i64) -> Result<KeyInfo, CustodyError>;

    /// Destroys a version for good: it is recorded as shredded first, then its material is destroyed.
    /// Objects wrapped only to it can never be opened again.
    ///
    /// # Errors
    /// [`CustodyError::UnknownKid`], [`CustodyError::Shredded`] (already), [`CustodyError::Storage`],
    /// [`CustodyError::Pkcs11`].
    fn shred(&self, kid: &str, now_unix: i64) -> Result<KeyInfo, CustodyError>;

    /// Makes one active key for every [`Algorithm`] that has none (first start).
    ///
    /// # Errors
    /// As [`KeyCustody::rotate`].
    fn ensure_defaults(&self, now_unix: i64) -> Result<(), CustodyError>;
}
