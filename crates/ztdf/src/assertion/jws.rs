//! Compact JWS (RFC 7515) for assertion bindings: HS256 (HMAC-SHA256, the payload key by default), RS256
//! (RSASSA-PKCS1-v1_5 SHA-256) and ES256 (ECDSA P-256 SHA-256, fixed `r||s`). The header's `alg` must be the
//! verifier's algorithm: a token cannot choose how it is checked (no `none`, no algorithm confusion).
//! ECDSA signing randomness comes from aws-lc's internal generator (its API takes none of ours).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
};
use aws_lc_rs::{constant_time, hmac};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::b64;
use crate::error::{Error, Result};
use crate::key::{pem_blocks, spki_from_certificate};

/// A key that signs assertion bindings.
pub enum AssertionSigner {
    /// HMAC-SHA256 with a shared secret.
    Hs256(Zeroizing<Vec<u8>>),
    /// RSASSA-PKCS1-v1_5 SHA-256.
    Rs256(RsaKeyPair),
    /// ECDSA P-256 SHA-256.
    Es256(EcdsaKeyPair),
}

impl std::fmt::Debug for AssertionSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AssertionSigner::Hs256(_) => "AssertionSigner(HS256)",
            AssertionSigner::Rs256(_) => "AssertionSigner(RS256)",
            AssertionSigner::Es256(_) => "AssertionSigner(ES256)",
        })
    }
}

impl AssertionSigner {
    /// Parses a PKCS#8 PEM private key: RSA gives RS256, P-256 gives ES256.
    ///
    /// # Errors
    /// [`Error::Key`] for another key.
    pub fn from_pem(text: &str) -> Result<Self> {
        let blocks = pem_blocks(text)?;
        let (_, der) = blocks.first().ok_or_else(|| Error::Key("no PEM block found".into()))?;
        let der = Zeroizing::new(der.clone());
        if let Ok(k) = RsaKeyPair::from_pkcs8(&der) {
            return Ok(AssertionSigner::Rs256(k));
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
            return Ok(AssertionSigner::Es256(k));
        }
        Err(Error::Key("an assertion signing key must be an RSA or P-256 PKCS#8 private key".into()))
    }

    /// The matching verifier (for RS256/ES256: the public key).
    ///
    /// # Errors
    /// Never in practice.
    pub fn verifier(&self) -> Result<AssertionVerifier> {
        Ok(match self {
            AssertionSigner::Hs256(k) => AssertionVerifier::Hs256(k.clone()),
            AssertionSigner::Rs256(k) => AssertionVerifier::Rs256(k.public_key().as_ref().to_vec()),
            AssertionSigner::Es256(k) => AssertionVerifier::Es256(k.public_key().as_ref().to_vec()),
        })
    }

    fn alg(&self) -> &'static str {
        match self {
            AssertionSigner::Hs256(_) => "HS256",
            AssertionSigner::Rs256(_) => "RS256",
            AssertionSigner::Es256(_) => "ES256",
        }
    }
}

/// A key that verifies assertion bindings.
#[derive(Clone)]
pub enum AssertionVerifier {
    /// HMAC-SHA256 with a shared secret.
    Hs256(Zeroizing<Vec<u8>>),
    /// RS256 with an RSA public key (PKCS#1 `RSAPublicKey` DER).
    Rs256(Vec<u8>),
    /// ES256 with a P-256 public key (uncompressed point).
    Es256(Vec<u8>),
}

impl std::fmt::Debug for AssertionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AssertionVerifier::Hs256(_) => "AssertionVerifier(HS256)",
            AssertionVerifier::Rs256(_) => "AssertionVerifier(RS256)",
            AssertionVerifier::Es256(_) => "AssertionVerifier(ES256)",
        })
    }
}

impl AssertionVerifier {
    /// Parses a public key PEM (`PUBLIC KEY` or `CERTIFICATE`): RSA gives RS256, P-256 gives ES256.
    ///
    /// # Errors
    /// [`Error::Key`] for another key.
    pub fn from_pem(text: &str) -> Result<Self> {
        let blocks = pem_blocks(text)?;
        let (label, der) = blocks.first().ok_or_else(|| Error::Key("no PEM block found".into()))?;
        let spki = if label == "CERTIFICATE" { spki_from_certificate(der)? } else { der.clone() };
        let key_bits = spki_key_bits(&spki)?;
        if key_bits.first() == Some(&0x04) && key_bits.len() == 65 {
            return Ok(AssertionVerifier::Es256(key_bits));
        }
        if key_bits.first() == Some(&0x30) {
            return Ok(AssertionVerifier::Rs256(key_bits));
        }
        Err(Error::Key("an assertion verification key must be an RSA or P-256 public key".into()))
    }

    fn alg(&self) -> &'static str {
        match self {
            AssertionVerifier::Hs256(_) => "HS256",
            AssertionVerifier::Rs256(_) => "RS256",
            AssertionVerifier::Es256(_) => "ES256",
        }
    }
}

/// The BIT STRING content of an SPKI (the key without its algorithm identifier).
fn spki_key_bits(spki: &[u8]) -> Result<Vec<u8>> {
    let bad = || Error::Key("the public key is not a valid SubjectPublicKeyInfo".into());
    let (seq, _) = der_tlv(spki).ok_or_else(bad)?;
    let (_alg, rest) = der_tlv(seq).ok_or_else(bad)?;
    let (bits, _) = der_tlv(rest).ok_or_else(bad)?;
    let (unused, key) = bits.split_first().ok_or_else(bad)?;
    if *unused != 0 {
        return Err(bad());
    }
    Ok(key.to_vec())
}

/// Content of the first DER TLV and what follows it.
fn der_tlv(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, rest) = data.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (lb, r) = rest.split_at_checked(n)?;
        rest = r;
        lb.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    rest.split_at_checked(len)
}

/// Signs claims into a compact JWS.
///
/// # Errors
/// Crypto failures.
pub(crate) fn sign(claims: &Value, signer: &AssertionSigner) -> Result<String> {
    let header = serde_json::json!({"alg": signer.alg(), "typ": "JWT"});
    let h = b64::encode_url(header.to_string().as_bytes());
    let p = b64::encode_url(claims.to_string().as_bytes());
    let input = format!("{h}.{p}");
    let sig = match signer {
        AssertionSigner::Hs256(k) => {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k), input.as_bytes()).as_ref().to_vec()
        }
        AssertionSigner::Rs256(k) => {
            let mut sig = vec![0u8; k.public_modulus_len()];
            // PKCS#1 v1.5 signing is deterministic; the generator argument is unused by aws-lc.
            k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
                .map_err(|_| Error::Crypto("rs256 signing"))?;
            sig
        }
        AssertionSigner::Es256(k) => k
            .sign(&SystemRandom::new(), input.as_bytes())
            .map_err(|_| Error::Crypto("es256 signing"))?
            .as_ref()
            .to_vec(),
    };
    Ok(format!("{input}.{}", b64::encode_url(&sig)))
}

/// Verifies a compact JWS with the given key and returns its claims. The header's `alg` must match the key.
///
/// # Errors
/// A message saying what failed (used as the assertion failure reason).
pub(crate) fn verify(token: &str, verifier: &AssertionVerifier) -> std::result::Result<Value, String> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err("the binding is not a compact JWS".into());
    };
    let header: Value = b64::decode_url(h, "the JWS header")
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the JWS header is malformed")?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != verifier.alg() {
        return Err(format!("the JWS is signed with `{alg}` but the verification key is {}", verifier.alg()));
    }
    let sig = b64::decode_url(s, "the JWS signature").map_err(|_| "the JWS signature is malformed")?;
    let input = format!("{h}.{p}");
    let ok = match verifier {
        AssertionVerifier::Hs256(k) => {
            let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, k), input.as_bytes());
            constant_time::verify_slices_are_equal(tag.as_ref(), &sig).is_ok()
        }
        AssertionVerifier::Rs256(k) => signature::UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, k)
            .verify(input.as_bytes(), &sig)
            .is_ok(),
        AssertionVerifier::Es256(k) => signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, k)
            .verify(input.as_bytes(), &sig)
            .is_ok(),
    };
    if !ok {
        return Err("the JWS signature does not verify".into());
    }
    b64::decode_url(p, "the JWS payload")
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| "the JWS payload is not JSON".into())
}
