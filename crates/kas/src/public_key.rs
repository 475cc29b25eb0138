//! `GET /kas/v2/kas_public_key?algorithm=…&fmt=…`: the KAS public key rendered as the OpenTDF platform renders
//! it, and the algorithm names of that API.
//!
//! The response is `{"publicKey": …, "kid": …}` where `publicKey` is always a JSON *string* (the platform's
//! protobuf field is a string): the SPKI PEM for `fmt=pkcs8` (or no `fmt`), the JWK's JSON text for `fmt=jwk`.
//! `kid` is left out when the caller passes none (the platform hides it from `v=1` clients).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use redoubt_ztdf::{Curve, KasPublicKey};
use serde_json::{Map, Value};

use crate::error::{KasError, quote};
use crate::jwk::Jwk;

/// A KAS key algorithm, by its OpenTDF wire name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `rsa:2048`.
    Rsa2048,
    /// `ec:secp256r1`.
    EcP256,
    /// `ec:secp384r1`.
    EcP384,
}

impl Algorithm {
    /// The wire name. Do not change: clients send and compare these strings.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rsa2048 => "rsa:2048",
            Algorithm::EcP256 => "ec:secp256r1",
            Algorithm::EcP384 => "ec:secp384r1",
        }
    }

    /// The algorithm of a KAS public key: `None` for RSA keys of another size than 2048 bits.
    #[must_use]
    pub fn of_key(key: &KasPublicKey) -> Option<Algorithm> {
        match key {
            KasPublicKey::Rsa { bits: 2048, .. } => Some(Algorithm::Rsa2048),
            KasPublicKey::Rsa { .. } => None,
            KasPublicKey::Ec { curve: Curve::P256, .. } => Some(Algorithm::EcP256),
            KasPublicKey::Ec { curve: Curve::P384, .. } => Some(Algorithm::EcP384),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = KasError;

    /// Parses a wire name, exactly (the platform compares them case-sensitively).
    fn from_str(s: &str) -> Result<Algorithm, KasError> {
        [Algorithm::Rsa2048, Algorithm::EcP256, Algorithm::EcP384]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| KasError::UnknownAlgorithm { name: quote(s) })
    }
}

/// The `fmt` of a public key request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFormat {
    /// `pkcs8` (or absent/empty): the SPKI PEM.
    Pkcs8,
    /// `jwk`: a JSON Web Key.
    Jwk,
}

impl FromStr for KeyFormat {
    type Err = KasError;

    /// `pkcs8`, `jwk`, or the empty string (an absent `fmt`), which means `pkcs8`.
    fn from_str(s: &str) -> Result<KeyFormat, KasError> {
        match s {
            "" | "pkcs8" => Ok(KeyFormat::Pkcs8),
            "jwk" => Ok(KeyFormat::Jwk),
            other => Err(KasError::UnknownFormat { name: quote(other) }),
        }
    }
}

/// An SPKI DER as a `PUBLIC KEY` PEM block with 64-character lines and a final newline.
#[must_use]
pub fn spki_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + body.len() / 64 + 60);
    pem.push_str("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        // The base64 alphabet is ASCII, so every chunk is valid UTF-8.
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// The JSON response of `kas_public_key` for the KAS key `spki_der` in `format`, with `kid` when given.
///
/// # Errors
/// [`KasError::Key`] when the key is not RSA, P-256 or P-384 (only for [`KeyFormat::Jwk`]).
pub fn public_key_response(
    spki_der: &[u8],
    format: KeyFormat,
    kid: Option<&str>,
) -> Result<String, KasError> {
    let public_key = match format {
        KeyFormat::Pkcs8 => spki_pem(spki_der),
        KeyFormat::Jwk => Jwk::from_spki_der(spki_der)?.to_json(kid).to_string(),
    };
    let mut out = Map::new();
    out.insert("publicKey".to_owned(), Value::String(public_key));
    if let Some(kid) = kid {
        out.insert("kid".to_owned(), Value::String(kid.to_owned()));
    }
    Ok(Value::Object(out).to_string())
}
