//! KAS public keys and wrapping a key share into a key access object: `wrapped` is RSA-OAEP with SHA-1 and
//! MGF1-SHA-1 (what every OpenTDF SDK writes and every KAS expects); `ec-wrapped` is ECDH with an ephemeral key
//! on the KAS curve, HKDF-SHA256 (salt SHA-256("TDF"), empty info) and AES-256-GCM.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, ParsedPublicKey, UnparsedPublicKey};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::{digest, hkdf};
use zeroize::{Zeroize, Zeroizing};

use super::pem::{pem_blocks, spki_from_certificate, to_pem};
use super::{KEY_LEN, KeyShare};
use crate::b64;
use crate::error::{Error, Result};
use crate::manifest::KeyAccessObject;
use crate::policy::policy_binding;
use crate::rand::{RandomSource, array};

/// A KAS public key, from an SPKI PEM (`PUBLIC KEY`) or a certificate.
///
/// RSA-OAEP padding randomness comes from aws-lc's internal generator (its API takes none); the ephemeral EC
/// key and every other random byte come from the caller's [`RandomSource`].
#[derive(Clone)]
pub enum KasPublicKey {
    /// RSA (2048 bits or more): `wrapped`.
    Rsa {
        /// The SPKI DER, kept to rebuild the key and for display.
        spki: Vec<u8>,
        /// Modulus size in bits.
        bits: usize,
    },
    /// EC P-256 or P-384: `ec-wrapped`.
    Ec {
        /// The SPKI DER.
        spki: Vec<u8>,
        /// The curve.
        curve: Curve,
    },
}

impl std::fmt::Debug for KasPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// An elliptic curve for `ec-wrapped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256 (secp256r1).
    P256,
    /// NIST P-384 (secp384r1).
    P384,
}

impl Curve {
    /// The ECDH algorithm on this curve.
    #[must_use]
    pub fn agreement(self) -> &'static agreement::Algorithm {
        match self {
            Curve::P256 => &ECDH_P256,
            Curve::P384 => &ECDH_P384,
        }
    }

    /// Length of a private scalar (and of the ECDH shared secret), in bytes.
    #[must_use]
    pub fn scalar_len(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }

    /// Which curve an SPKI DER is on.
    #[must_use]
    pub fn of_spki(spki: &[u8]) -> Option<Self> {
        [Curve::P256, Curve::P384]
            .into_iter()
            .find(|c| ParsedPublicKey::try_from(&UnparsedPublicKey::new(c.agreement(), spki)).is_ok())
    }
}

impl KasPublicKey {
    /// Parses a PEM: `PUBLIC KEY` (SPKI) or `CERTIFICATE` (its SPKI is used).
    ///
    /// # Errors
    /// [`Error::Key`] when it is neither, or the key is not RSA ≥ 2048 bits, P-256 or P-384.
    pub fn from_pem(text: &str) -> Result<Self> {
        let blocks = pem_blocks(text)?;
        let (label, der) = blocks.first().ok_or_else(|| Error::Key("no PEM block found".into()))?;
        let spki = match label.as_str() {
            "PUBLIC KEY" => der.clone(),
            "CERTIFICATE" => spki_from_certificate(der)?,
            other => {
                return Err(Error::Key(format!(
                    "expected a `PUBLIC KEY` or `CERTIFICATE` PEM, found `{other}`"
                )));
            }
        };
        Self::from_spki_der(&spki)
    }

    /// Parses an SPKI DER.
    ///
    /// # Errors
    /// [`Error::Key`] when the key is not RSA ≥ 2048 bits, P-256 or P-384.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self> {
        if let Ok(k) = PublicEncryptingKey::from_der(spki) {
            let bits = k.key_size_bits();
            if bits < 2048 {
                return Err(Error::Key(format!("the RSA key has {bits} bits; at least 2048 are required")));
            }
            return Ok(KasPublicKey::Rsa { spki: spki.to_vec(), bits });
        }
        match Curve::of_spki(spki) {
            Some(curve) => Ok(KasPublicKey::Ec { spki: spki.to_vec(), curve }),
            None => Err(Error::Key("the public key is neither RSA nor EC P-256/P-384".into())),
        }
    }

    /// The key access object type this key produces.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            KasPublicKey::Rsa { .. } => "wrapped",
            KasPublicKey::Ec { .. } => "ec-wrapped",
        }
    }

    /// A short description (algorithm and size), never key bytes.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            KasPublicKey::Rsa { bits, .. } => format!("rsa:{bits}"),
            KasPublicKey::Ec { curve: Curve::P256, .. } => "ec:secp256r1".into(),
            KasPublicKey::Ec { curve: Curve::P384, .. } => "ec:secp384r1".into(),
        }
    }
}

/// Output of wrapping one share.
struct Wrapped {
    wrapped_key: Vec<u8>,
    ephemeral_pem: Option<String>,
}

/// Builds a key access object for one share: wraps it to the KAS key, binds it to the policy, and encrypts
/// the metadata under it when given.
///
/// # Errors
/// [`Error::Key`] for an unusable key, [`Error::Random`], crypto failures.
pub fn wrap_key_access(
    share: &KeyShare,
    target: &super::KasTarget,
    sid: Option<String>,
    policy_b64: &str,
    metadata: Option<&[u8]>,
    rng: &dyn RandomSource,
) -> Result<KeyAccessObject> {
    let w = match &target.key {
        KasPublicKey::Rsa { spki, .. } => {
            Wrapped { wrapped_key: wrap_rsa(share, spki)?, ephemeral_pem: None }
        }
        KasPublicKey::Ec { spki, curve } => wrap_ec(share, spki, *curve, rng)?,
    };
    let encrypted_metadata = match metadata {
        Some(m) => Some(super::encrypt_metadata(share, m, rng)?),
        None => None,
    };
    Ok(KeyAccessObject {
        kind: target.key.kind().into(),
        url: target.url.clone(),
        protocol: "kas".into(),
        wrapped_key: b64::encode(&w.wrapped_key),
        policy_binding: policy_binding(share.as_bytes(), policy_b64),
        encrypted_metadata,
        kid: target.kid.clone(),
        sid,
        schema_version: Some("1.0".into()),
        ephemeral_public_key: w.ephemeral_pem,
    })
}

/// RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) of a share to an RSA public key (SPKI DER): a `wrapped` key
/// access object's key, and a KAS rewrap to an RSA client key.
///
/// # Errors
/// [`Error::Key`] for an invalid key, [`Error::Crypto`].
pub fn wrap_rsa(share: &KeyShare, spki: &[u8]) -> Result<Vec<u8>> {
    let key = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(spki)
            .map_err(|_| Error::Key("the RSA public key is invalid".into()))?,
    )
    .map_err(|_| Error::Key("the RSA public key is invalid".into()))?;
    let mut out = vec![0u8; key.ciphertext_size()];
    let n = key
        .encrypt(&OAEP_SHA1_MGF1SHA1, share.as_bytes(), &mut out, None)
        .map_err(|_| Error::Crypto("rsa-oaep encryption"))?
        .len();
    out.truncate(n);
    Ok(out)
}

/// The salt of the `ec-wrapped` HKDF: SHA-256 of the ASCII string "TDF". Do not change: wire constant.
pub(crate) fn tdf_salt() -> digest::Digest {
    digest::digest(&digest::SHA256, b"TDF")
}

/// HKDF-SHA256(salt = SHA-256("TDF"), ikm = Z, info = empty) → 32-byte AES key: the `ec-wrapped` wrap key
/// from the ECDH secret Z, and the key of a KAS rewrap to an EC client key.
///
/// # Errors
/// [`Error::Crypto`].
pub fn derive_wrap_key(z: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>> {
    let salt = tdf_salt();
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt.as_ref()).extract(z);
    let okm = prk.expand(&[], hkdf::HKDF_SHA256).map_err(|_| Error::Crypto("hkdf"))?;
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    okm.fill(key.as_mut()).map_err(|_| Error::Crypto("hkdf"))?;
    Ok(key)
}

fn wrap_ec(share: &KeyShare, kas_spki: &[u8], curve: Curve, rng: &dyn RandomSource) -> Result<Wrapped> {
    // The ephemeral scalar comes from the caller's random source; out-of-range draws are redrawn.
    let mut eph = None;
    for _ in 0..64 {
        let mut scalar = Zeroizing::new(vec![0u8; curve.scalar_len()]);
        rng.fill(&mut scalar)?;
        if let Ok(k) = agreement::PrivateKey::from_private_key(curve.agreement(), &scalar) {
            eph = Some(k);
            break;
        }
    }
    let eph = eph.ok_or(Error::Random)?;
    let eph_pub = eph.compute_public_key().map_err(|_| Error::Crypto("ec public key"))?;
    let eph_der = AsDer::<aws_lc_rs::encoding::PublicKeyX509Der<'_>>::as_der(&eph_pub)
        .map_err(|_| Error::Crypto("ec public key encoding"))?;
    let wrap_key = agreement::agree(
        &eph,
        UnparsedPublicKey::new(curve.agreement(), kas_spki),
        Error::Key("the EC public key is invalid".into()),
        derive_wrap_key,
    )?;
    let wrapped = seal_share(&wrap_key, share, rng)?;
    Ok(Wrapped { wrapped_key: wrapped, ephemeral_pem: Some(to_pem("PUBLIC KEY", eph_der.as_ref())) })
}

/// AES-256-GCM of a share under a wrap key (from [`derive_wrap_key`]), fresh random IV: `iv || ct || tag`.
///
/// # Errors
/// [`Error::Random`], [`Error::Crypto`].
pub fn seal_share(wrap_key: &[u8; KEY_LEN], share: &KeyShare, rng: &dyn RandomSource) -> Result<Vec<u8>> {
    let aead = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, wrap_key.as_ref()).map_err(|_| Error::Crypto("aes key"))?,
    );
    let iv: [u8; 12] = array(rng)?;
    let mut buf = share.as_bytes().to_vec();
    aead.seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut buf)
        .map_err(|_| Error::Crypto("aes-gcm"))?;
    let mut wrapped = iv.to_vec();
    wrapped.extend_from_slice(&buf);
    buf.zeroize();
    Ok(wrapped)
}
