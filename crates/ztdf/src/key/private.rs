//! KAS private keys and unwrapping one key access object: the offline path (`redoubt decrypt --kas-privkey`)
//! and the building block of a KAS rewrap. Unwrapping does not check the policy binding; callers do that with
//! [`crate::policy::verify_policy_binding`] before using the share.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, UnparsedPublicKey};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use zeroize::Zeroizing;

use super::KeyShare;
use super::pem::pem_blocks;
use super::public::{Curve, derive_wrap_key};
use crate::b64;
use crate::error::{Error, Result};
use crate::manifest::KeyAccessObject;

/// A KAS private key (PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`).
pub enum KasPrivateKey {
    /// RSA: unwraps `wrapped` objects.
    Rsa(OaepPrivateDecryptingKey),
    /// EC: unwraps `ec-wrapped` objects on its curve.
    Ec(agreement::PrivateKey, Curve),
}

impl std::fmt::Debug for KasPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KasPrivateKey::Rsa(k) => write!(f, "KasPrivateKey(rsa:{})", k.key_size_bits()),
            KasPrivateKey::Ec(_, c) => write!(f, "KasPrivateKey({c:?})"),
        }
    }
}

impl KasPrivateKey {
    /// Parses a PEM private key.
    ///
    /// # Errors
    /// [`Error::Key`] when it is not an RSA or P-256/P-384 private key in PKCS#8 or SEC1 form.
    pub fn from_pem(text: &str) -> Result<Self> {
        let blocks = pem_blocks(text)?;
        for (label, der) in &blocks {
            let der = Zeroizing::new(der.clone());
            match label.as_str() {
                "PRIVATE KEY" => return Self::from_pkcs8_der(&der),
                "EC PRIVATE KEY" => return Self::from_ec_der(&der),
                "RSA PRIVATE KEY" => {
                    return Err(Error::Key(
                        "PKCS#1 RSA keys are not supported; convert with `openssl pkcs8 -topk8 -nocrypt`"
                            .into(),
                    ));
                }
                _ => {}
            }
        }
        Err(Error::Key("expected a `PRIVATE KEY` or `EC PRIVATE KEY` PEM block".into()))
    }

    /// Parses a PKCS#8 DER private key (RSA or EC).
    ///
    /// # Errors
    /// [`Error::Key`] when it is neither.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        if let Ok(k) = PrivateDecryptingKey::from_pkcs8(der) {
            let k =
                OaepPrivateDecryptingKey::new(k).map_err(|_| Error::Key("the RSA key is unusable".into()))?;
            return Ok(KasPrivateKey::Rsa(k));
        }
        Self::from_ec_der(der)
    }

    fn from_ec_der(der: &[u8]) -> Result<Self> {
        for curve in [Curve::P256, Curve::P384] {
            if let Ok(k) = agreement::PrivateKey::from_private_key_der(curve.agreement(), der) {
                return Ok(KasPrivateKey::Ec(k, curve));
            }
        }
        Err(Error::Key("the private key is neither RSA nor EC P-256/P-384".into()))
    }
}

/// Unwraps the key share of one key access object with a KAS private key. Does not verify the policy binding.
///
/// # Errors
/// [`Error::KeyAccess`] when the key does not fit the object or the wrapped key does not decrypt;
/// [`Error::Unsupported`] for another object type; [`Error::Manifest`] for malformed fields.
pub fn unwrap_key_access(kao: &KeyAccessObject, key: &KasPrivateKey) -> Result<KeyShare> {
    let wrapped = b64::decode(&kao.wrapped_key, "`wrappedKey`")?;
    match (kao.kind.as_str(), key) {
        ("wrapped", KasPrivateKey::Rsa(k)) => {
            let mut out = Zeroizing::new(vec![0u8; k.min_output_size()]);
            let pt = k.decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut out, None).map_err(|_| {
                Error::KeyAccess(format!("the RSA key does not unwrap the key for `{}`", kao.url))
            })?;
            KeyShare::from_slice(pt)
        }
        ("ec-wrapped", KasPrivateKey::Ec(k, curve)) => {
            let pem = kao.ephemeral_public_key.as_deref().ok_or_else(|| {
                Error::Manifest("an `ec-wrapped` key access object has no `ephemeralPublicKey`".into())
            })?;
            let blocks =
                pem_blocks(pem).map_err(|_| Error::Manifest("`ephemeralPublicKey` is not a PEM".into()))?;
            let (_, spki) =
                blocks.first().ok_or_else(|| Error::Manifest("`ephemeralPublicKey` is empty".into()))?;
            let wrap_key = agreement::agree(
                k,
                UnparsedPublicKey::new(curve.agreement(), spki.as_slice()),
                Error::KeyAccess(format!("the ephemeral key of `{}` is not on the key's curve", kao.url)),
                derive_wrap_key,
            )?;
            open_share(&wrap_key, &wrapped).map_err(|_| {
                Error::KeyAccess(format!("the EC key does not unwrap the key for `{}`", kao.url))
            })
        }
        ("wrapped" | "ec-wrapped", _) => Err(Error::KeyAccess(format!(
            "the key type does not fit the `{}` object for `{}`",
            kao.kind, kao.url
        ))),
        (other, _) => Err(Error::Unsupported(format!("key access type `{other}`"))),
    }
}

/// Opens `iv || ct || tag` (AES-256-GCM) under a wrap key from [`super::derive_wrap_key`]: the second half of an
/// `ec-wrapped` unwrap when the ECDH secret comes from elsewhere (an HSM), and of a rewrap to an EC client key.
///
/// # Errors
/// [`Error::KeyAccess`] when it does not authenticate or is malformed.
pub fn open_share(wrap_key: &[u8; super::KEY_LEN], wrapped: &[u8]) -> Result<KeyShare> {
    let aead = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, wrap_key.as_ref()).map_err(|_| Error::Crypto("aes key"))?,
    );
    if wrapped.len() < 12 + 16 {
        return Err(Error::KeyAccess("the wrapped key is too short".into()));
    }
    let mut buf = Zeroizing::new(wrapped.to_vec());
    let (iv, body) = buf.split_at_mut(12);
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| Error::Crypto("iv"))?;
    let pt = aead
        .open_in_place(nonce, Aad::empty(), body)
        .map_err(|_| Error::KeyAccess("the wrapped key does not authenticate under this key".into()))?;
    KeyShare::from_slice(pt)
}
