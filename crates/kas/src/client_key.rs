//! The server half of the response crypto: the client's public key from the request body, and the rewrap of a
//! key share to it, as the OpenTDF platform does it.
//!
//! - RSA client key (2048 bits or more): each share is RSA-OAEP (SHA-1, MGF1-SHA-1) wrapped to it.
//! - EC client key (P-256 or P-384): one ephemeral session key pair on the same curve per response; its public
//!   half goes out as `sessionPublicKey`; the AES-256-GCM key is HKDF-SHA256(salt = SHA-256("TDF"), ECDH(session
//!   private, client public)), and each share is sealed under it with a fresh random IV (`iv || ct || tag`).
//!
//! The session private key never leaves [`Rewrapper`]; only the derived wrap key is kept (zeroized on drop).

use aws_lc_rs::agreement::{self, UnparsedPublicKey};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use redoubt_ztdf::key::pem_blocks;
use redoubt_ztdf::{Curve, KasPublicKey, KeyShare, RandomSource, derive_wrap_key, seal_share, wrap_rsa};
use zeroize::Zeroizing;

use crate::error::{KasError, quote};
use crate::public_key::spki_pem;

/// How many scalar draws are tried before the random source is declared broken (a P-256 draw is out of range
/// with probability about 2^-32).
const SCALAR_DRAWS: usize = 64;

/// The client's public key, from the body's `clientPublicKey`.
#[derive(Debug, Clone)]
pub struct ClientKey(KasPublicKey);

impl ClientKey {
    /// Reads an SPKI PEM (`-----BEGIN PUBLIC KEY-----`): RSA of 2048 bits or more, or EC P-256 / P-384.
    ///
    /// # Errors
    /// [`KasError::ClientKey`] for another PEM label or another kind of key.
    pub fn from_pem(pem: &str) -> Result<ClientKey, KasError> {
        let bad = |problem: String| KasError::ClientKey { problem };
        let blocks = pem_blocks(pem).map_err(|e| bad(e.to_string()))?;
        let [(label, der)] = blocks.as_slice() else {
            return Err(bad("expected exactly one PEM block".to_owned()));
        };
        if label != "PUBLIC KEY" {
            return Err(bad(format!("expected a `PUBLIC KEY` PEM block, found {}", quote(label))));
        }
        KasPublicKey::from_spki_der(der).map(ClientKey).map_err(|e| bad(e.to_string()))
    }

    /// The key's algorithm and size (`rsa:2048`, `ec:secp256r1`, …), never key bytes.
    #[must_use]
    pub fn describe(&self) -> String {
        self.0.describe()
    }
}

/// Rewraps the shares of one response to one client key.
pub struct Rewrapper<'a> {
    target: Target,
    rng: &'a dyn RandomSource,
}

enum Target {
    Rsa { spki: Vec<u8> },
    Ec { wrap_key: Zeroizing<[u8; 32]>, session_pem: String },
}

impl std::fmt::Debug for Rewrapper<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Target::Rsa { .. } => f.write_str("Rewrapper(rsa)"),
            Target::Ec { .. } => f.write_str("Rewrapper(ec session)"),
        }
    }
}

impl<'a> Rewrapper<'a> {
    /// Prepares the rewrap of one response: for an EC client key, draws the session key pair from `rng` and
    /// derives the wrap key.
    ///
    /// # Errors
    /// [`KasError::ClientKey`] when the ECDH with the client key fails; [`KasError::Crypto`] when the random
    /// source fails.
    pub fn new(client: &ClientKey, rng: &'a dyn RandomSource) -> Result<Rewrapper<'a>, KasError> {
        let target = match &client.0 {
            KasPublicKey::Rsa { spki, .. } => Target::Rsa { spki: spki.clone() },
            KasPublicKey::Ec { spki, curve } => {
                let session = ephemeral_key(*curve, rng)?;
                let public = session.compute_public_key().map_err(|_| crypto("session public key"))?;
                let der = AsDer::<PublicKeyX509Der<'_>>::as_der(&public)
                    .map_err(|_| crypto("session public key"))?;
                let wrap_key = agreement::agree(
                    &session,
                    UnparsedPublicKey::new(curve.agreement(), spki.as_slice()),
                    KasError::ClientKey {
                        problem: "the EC client key does not agree with its curve".to_owned(),
                    },
                    |z| derive_wrap_key(z).map_err(|_| crypto("hkdf")),
                )?;
                Target::Ec { wrap_key, session_pem: spki_pem(der.as_ref()) }
            }
        };
        Ok(Rewrapper { target, rng })
    }

    /// The session public key (SPKI PEM) the response must carry as `sessionPublicKey`; `None` for an RSA client.
    #[must_use]
    pub fn session_public_pem(&self) -> Option<&str> {
        match &self.target {
            Target::Rsa { .. } => None,
            Target::Ec { session_pem, .. } => Some(session_pem),
        }
    }

    /// Wraps one share to the client: standard base64, the response's `kasWrappedKey`.
    ///
    /// # Errors
    /// [`KasError::Crypto`] when encryption or the random source fails.
    pub fn rewrap(&self, share: &KeyShare) -> Result<String, KasError> {
        let wrapped = match &self.target {
            Target::Rsa { spki } => wrap_rsa(share, spki).map_err(|_| crypto("rsa-oaep"))?,
            Target::Ec { wrap_key, .. } => {
                seal_share(wrap_key, share, self.rng).map_err(|_| crypto("aes-gcm"))?
            }
        };
        Ok(crate::b64_std(&wrapped))
    }
}

/// An ephemeral ECDH private key whose scalar comes from `rng`; out-of-range draws are redrawn.
pub(crate) fn ephemeral_key(curve: Curve, rng: &dyn RandomSource) -> Result<agreement::PrivateKey, KasError> {
    for _ in 0..SCALAR_DRAWS {
        let mut scalar = Zeroizing::new(vec![0u8; curve.scalar_len()]);
        rng.fill(&mut scalar).map_err(|_| crypto("random source"))?;
        if let Ok(k) = agreement::PrivateKey::from_private_key(curve.agreement(), &scalar) {
            return Ok(k);
        }
    }
    Err(crypto("random source"))
}

fn crypto(what: &'static str) -> KasError {
    KasError::Crypto { what }
}
