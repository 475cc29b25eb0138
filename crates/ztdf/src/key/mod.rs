//! Key material and key access: the payload key and its shares (zeroized on drop), KAS public keys that wrap
//! shares (`wrapped`: RSA-OAEP-SHA1; `ec-wrapped`: ECDH P-256/P-384 + HKDF + AES-GCM), KAS private keys that
//! unwrap them, key splitting (XOR shares by `sid`, alternatives within a `sid`) and encrypted metadata.
//! Unwrapping one key access object and verifying its policy binding are separate functions so a KAS can
//! reuse them for rewrap.

mod metadata;
mod pem;
mod private;
mod public;

use zeroize::{Zeroize, ZeroizeOnDrop};

pub use metadata::{decrypt_metadata, encrypt_metadata};
pub use pem::{pem_blocks, spki_from_certificate};
pub use private::{KasPrivateKey, open_share, unwrap_key_access};
pub use public::{Curve, KasPublicKey, derive_wrap_key, seal_share, wrap_key_access, wrap_rsa};

use crate::error::{Error, Result};
use crate::rand::{RandomSource, array};

/// Length of the payload key and of every key share (AES-256).
pub const KEY_LEN: usize = 32;

/// The payload (data encryption) key. Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct PayloadKey([u8; KEY_LEN]);

impl PayloadKey {
    /// Wraps raw key bytes (for a KAS that recovered them, or tests).
    #[must_use]
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The raw key. Handle with care: never log it.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// XOR of the shares (one share: the share itself).
    #[must_use]
    pub fn combine(shares: &[KeyShare]) -> Self {
        let mut k = [0u8; KEY_LEN];
        for s in shares {
            for (a, b) in k.iter_mut().zip(s.0.iter()) {
                *a ^= *b;
            }
        }
        Self(k)
    }
}

impl std::fmt::Debug for PayloadKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PayloadKey(<redacted>)")
    }
}

/// One key share (what a key access object wraps). Zeroized on drop; never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct KeyShare([u8; KEY_LEN]);

impl KeyShare {
    /// Wraps raw share bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses an unwrapped share, which must be exactly 32 bytes.
    ///
    /// # Errors
    /// [`Error::KeyAccess`] for another length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_LEN] = bytes
            .try_into()
            .map_err(|_| Error::KeyAccess("the unwrapped key share is not 32 bytes".into()))?;
        Ok(Self(arr))
    }

    /// A fresh random share.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn random(rng: &dyn RandomSource) -> Result<Self> {
        Ok(Self(array(rng)?))
    }

    /// The raw share. Handle with care: never log it.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyShare(<redacted>)")
    }
}

/// How several KAS targets without an explicit `sid` share the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SplitMode {
    /// Each KAS holds its own XOR share: every one must release its share (key splitting).
    #[default]
    AllOf,
    /// Every KAS holds the whole key: any one of them can release it (alternatives).
    AnyOf,
}

/// A KAS the writer wraps a key share to.
#[derive(Debug, Clone)]
pub struct KasTarget {
    /// KAS URL written into the key access object.
    pub url: String,
    /// The KAS public key (RSA for `wrapped`, EC for `ec-wrapped`).
    pub key: KasPublicKey,
    /// Key identifier at the KAS, when known.
    pub kid: Option<String>,
    /// Explicit split identifier; targets with the same one are alternatives for one share.
    pub sid: Option<String>,
}
