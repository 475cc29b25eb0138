//! The issuer's JSON Web Key Set (RFC 7517): parsed once, bounded, into verification keys ready for use.
//!
//! Usable keys are RSA keys of 2048 to 8192 bits (`kty` `RSA`, `n`, `e`) and EC P-256 keys (`kty` `EC`, `crv`
//! `P-256`, `x`, `y`), for signatures (`use` absent or `sig`; `key_ops`, if present, containing `verify`; `alg`
//! absent or the one algorithm the key type allows: `RS256` for RSA, `ES256` for EC). Other keys (encryption keys,
//! other curves and algorithms, `OKP`) are skipped, not refused: identity providers publish them side by side
//! with signing keys, and a skipped key can verify nothing. A usable key whose material is malformed or too weak
//! refuses the whole set, as do private key members (`d`, `p`, `k`, …), duplicate member names, two usable keys
//! with one `kid`, and a set with no usable key. The document is bounded ([`MAX_JWKS_BYTES`], [`MAX_KEYS`]).

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::error::{OidcError, quote};
use crate::json::{JsonError, parse_object};
use crate::jws::Alg;

/// Largest JWKS document read, in bytes.
pub const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Most keys a JWKS may list (usable or not).
pub const MAX_KEYS: usize = 100;

const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;
/// P-256 coordinates are exactly 32 bytes (RFC 7518 §6.2.1.2: the full length, leading zeros kept).
const P256_COORDINATE_BYTES: usize = 32;
/// JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// base64url for key material; padding tolerated (the set comes from the configured issuer, not from a client).
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A parsed JSON Web Key Set: the issuer's usable signature verification keys, by `kid`.
#[derive(Debug, Clone)]
pub struct Jwks {
    keys: Vec<Key>,
}

/// One usable verification key.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) kid: Option<String>,
    pub(crate) key_type: KeyType,
    pub(crate) public: ParsedPublicKey,
}

/// The key types this crate verifies with; each allows exactly one algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    Rsa,
    Ec,
}

impl KeyType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "RSA",
            KeyType::Ec => "EC",
        }
    }
}

impl Jwks {
    /// Reads a JWKS document (`{"keys":[…]}`), keeping the usable signing keys.
    pub fn from_json(bytes: &[u8]) -> Result<Jwks, OidcError> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(OidcError::JwksTooLarge { size: bytes.len(), limit: MAX_JWKS_BYTES });
        }
        let doc = parse_object(bytes).map_err(|e| OidcError::JwksInvalid {
            problem: match e {
                JsonError::Duplicate(name) => format!("member {} appears twice in one object", quote(&name)),
                JsonError::Syntax(detail) => format!("not a JSON object: {detail}"),
            },
        })?;
        let listed = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| OidcError::JwksInvalid { problem: "it has no `keys` array".to_owned() })?;
        if listed.len() > MAX_KEYS {
            return Err(OidcError::TooManyKeys { count: listed.len(), limit: MAX_KEYS });
        }
        let mut keys: Vec<Key> = Vec::new();
        for (index, jwk) in listed.iter().enumerate() {
            let Some(key) = parse_key(index, jwk)? else { continue };
            if let Some(kid) = &key.kid
                && keys.iter().any(|k| k.kid.as_ref() == Some(kid))
            {
                return Err(OidcError::DuplicateKid { kid: quote(kid) });
            }
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(OidcError::NoUsableKeys);
        }
        Ok(Jwks { keys })
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no usable key (never true for a set [`Jwks::from_json`] returned).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key that must verify a token signed with `alg`, named by `kid` (required when there are several keys).
    pub(crate) fn select(&self, kid: Option<&str>, alg: Alg) -> Result<&Key, OidcError> {
        let key = match (kid, self.keys.as_slice()) {
            (Some(kid), keys) => keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .ok_or_else(|| OidcError::UnknownKid { kid: quote(kid) })?,
            (None, [only]) => only,
            (None, keys) => return Err(OidcError::MissingKid { keys: keys.len() }),
        };
        if key.key_type != alg.key_type() {
            return Err(OidcError::KeyAlgorithmMismatch {
                kid: kid.map_or_else(|| "(none)".to_owned(), quote),
                key_type: key.key_type.as_str(),
                alg: alg.as_str(),
            });
        }
        Ok(key)
    }
}

/// Reads one JWK: `Ok(None)` for a key this crate cannot verify with.
fn parse_key(index: usize, jwk: &Value) -> Result<Option<Key>, OidcError> {
    let invalid = |problem: String| OidcError::InvalidKey { index, problem };
    let obj = jwk.as_object().ok_or_else(|| invalid("it is not a JSON object".to_owned()))?;
    if PRIVATE_MEMBERS.iter().any(|m| obj.contains_key(*m)) {
        return Err(OidcError::PrivateKeyInJwks { index });
    }
    let kty = string(obj, "kty", index)?.ok_or_else(|| invalid("it has no `kty`".to_owned()))?;
    let kid = string(obj, "kid", index)?.map(str::to_owned);
    if string(obj, "use", index)?.is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if let Some(ops) = obj.get("key_ops") {
        let ops = ops.as_array().ok_or_else(|| invalid("`key_ops` is not an array".to_owned()))?;
        if !ops.iter().any(|op| op.as_str() == Some("verify")) {
            return Ok(None);
        }
    }
    let alg = string(obj, "alg", index)?;
    let (key_type, public) = match kty {
        "RSA" if alg.is_none_or(|a| a == Alg::Rs256.as_str()) => (KeyType::Rsa, rsa_key(obj, index)?),
        "EC" => {
            let crv =
                string(obj, "crv", index)?.ok_or_else(|| invalid("the EC key has no `crv`".to_owned()))?;
            if crv != "P-256" || alg.is_some_and(|a| a != Alg::Es256.as_str()) {
                return Ok(None);
            }
            (KeyType::Ec, ec_key(obj, index)?)
        }
        _ => return Ok(None),
    };
    Ok(Some(Key { kid, key_type, public }))
}

fn rsa_key(obj: &Map<String, Value>, index: usize) -> Result<ParsedPublicKey, OidcError> {
    let invalid = |problem: String| OidcError::InvalidKey { index, problem };
    let n = key_bytes(obj, "n", index)?;
    let e = key_bytes(obj, "e", index)?;
    let n = strip_leading_zeros(&n);
    let e = strip_leading_zeros(&e);
    let bits = bit_length(n);
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err(invalid(format!(
            "the RSA modulus has {bits} bits: use {RSA_MIN_BITS} to {RSA_MAX_BITS}"
        )));
    }
    // A public exponent is odd, at least 3 and (in practice, and for AWS-LC) at most 32 bits.
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    if !odd || e.len() > 4 || e == [1] {
        return Err(invalid("the RSA exponent `e` is not an odd number from 3 to 2^32 - 1".to_owned()));
    }
    RsaPublicKeyComponents { n, e }
        .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
        .map_err(|_| invalid("it is not a valid RSA public key".to_owned()))
}

fn ec_key(obj: &Map<String, Value>, index: usize) -> Result<ParsedPublicKey, OidcError> {
    let invalid = |problem: String| OidcError::InvalidKey { index, problem };
    let x = key_bytes(obj, "x", index)?;
    let y = key_bytes(obj, "y", index)?;
    if x.len() != P256_COORDINATE_BYTES || y.len() != P256_COORDINATE_BYTES {
        return Err(invalid(format!(
            "P-256 coordinates `x` and `y` must be {P256_COORDINATE_BYTES} bytes each"
        )));
    }
    // SEC 1 uncompressed point: 0x04 || x || y.
    let mut point = Vec::with_capacity(1 + 2 * P256_COORDINATE_BYTES);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .map_err(|_| invalid("`x`, `y` is not a point on P-256".to_owned()))
}

/// An optional string member; present with another type is an error.
fn string<'a>(obj: &'a Map<String, Value>, name: &str, index: usize) -> Result<Option<&'a str>, OidcError> {
    match obj.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(OidcError::InvalidKey { index, problem: format!("`{name}` is not a string") }),
    }
}

/// A required base64url member.
fn key_bytes(obj: &Map<String, Value>, name: &str, index: usize) -> Result<Vec<u8>, OidcError> {
    let text = string(obj, name, index)?
        .ok_or_else(|| OidcError::InvalidKey { index, problem: format!("it has no `{name}`") })?;
    KEY_BASE64
        .decode(text)
        .map_err(|_| OidcError::InvalidKey { index, problem: format!("`{name}` is not base64url") })
}

/// Some encoders prefix a zero byte to keep a big-endian integer "positive" (RFC 7518 §6.3.1.1 forbids it;
/// AWS-LC refuses it). The value is the same without.
fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

fn bit_length(be: &[u8]) -> usize {
    match be.first() {
        None => 0,
        Some(top) => (be.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_from_the_top_set_bit() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[1]), 1);
        assert_eq!(bit_length(&[0x80, 0]), 16);
        assert_eq!(bit_length(&[0x7f; 256]), 2047);
    }

    #[test]
    fn leading_zeros_are_dropped() {
        assert_eq!(strip_leading_zeros(&[0, 0, 1, 0]), &[1, 0]);
        assert_eq!(strip_leading_zeros(&[0, 0]), &[] as &[u8]);
    }
}
