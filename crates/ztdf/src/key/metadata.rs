//! Encrypted metadata of a key access object: `base64({"ciphertext": b64(iv||ct||tag), "iv": b64(iv)})`,
//! AES-256-GCM under the object's key share. Only a holder of the share (the KAS, or the client after rewrap)
//! can read it.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use serde::{Deserialize, Serialize};

use super::KeyShare;
use crate::b64;
use crate::error::{Error, Result};
use crate::rand::{RandomSource, array};

#[derive(Serialize, Deserialize)]
struct Envelope {
    ciphertext: String,
    #[serde(default)]
    iv: Option<String>,
}

/// Encrypts metadata under a key share.
///
/// # Errors
/// [`Error::Random`] or a crypto failure.
pub fn encrypt_metadata(share: &KeyShare, plaintext: &[u8], rng: &dyn RandomSource) -> Result<String> {
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, share.as_bytes()).map_err(|_| Error::Crypto("aes key"))?,
    );
    let iv: [u8; 12] = array(rng)?;
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(iv), Aad::empty(), &mut buf)
        .map_err(|_| Error::Crypto("metadata encryption"))?;
    let mut ct = iv.to_vec();
    ct.extend_from_slice(&buf);
    let env = Envelope { ciphertext: b64::encode(&ct), iv: Some(b64::encode(&iv)) };
    let json = serde_json::to_vec(&env).map_err(|_| Error::Crypto("metadata serialisation"))?;
    Ok(b64::encode(&json))
}

/// Decrypts metadata under a key share. `None` when the error is only that it does not verify.
///
/// # Errors
/// [`Error::Manifest`] when the envelope is malformed.
pub fn decrypt_metadata(share: &KeyShare, encoded: &str) -> Result<Option<Vec<u8>>> {
    let json = b64::decode(encoded, "the encrypted metadata")?;
    let env: Envelope = serde_json::from_slice(&json)
        .map_err(|_| Error::Manifest("the encrypted metadata is not a valid envelope".into()))?;
    let mut ct = b64::decode(&env.ciphertext, "the encrypted metadata ciphertext")?;
    if ct.len() < 28 {
        return Ok(None);
    }
    let (iv, body) = ct.split_at_mut(12);
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, share.as_bytes()).map_err(|_| Error::Crypto("aes key"))?,
    );
    let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| Error::Crypto("iv"))?;
    match key.open_in_place(nonce, Aad::empty(), body) {
        Ok(pt) => Ok(Some(pt.to_vec())),
        Err(_) => Ok(None),
    }
}
