//! JSON Web Keys (RFC 7517) of the two public key kinds a KAS meets: RSA (`kty` `RSA`, `n`, `e`) and EC P-256 /
//! P-384 (`kty` `EC`, `crv`, `x`, `y`). Read from a JWS header or written for `GET kas_public_key?fmt=jwk`, and
//! their RFC 7638 thumbprint, which a DPoP-bound access token names in `cnf.jkt`.
//!
//! Private members (`d`, `p`, …) refuse a JWK: a client that sends its private key has made a mistake we must
//! not paper over. Keys are checked when read (the point is on the curve, the RSA modulus is 2048 to 8192 bits).

use aws_lc_rs::digest;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
    RsaPublicKeyComponents,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redoubt_ztdf::Curve;
use serde_json::{Map, Value, json};

use crate::error::{KasError, quote};

/// JWK members that hold private or symmetric key material (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// A public JSON Web Key: RSA or EC on P-256 / P-384. Integers are big-endian; `n` and `e` without leading
/// zeros, `x` and `y` at the curve's full length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Jwk {
    /// `kty` `RSA`.
    Rsa {
        /// The modulus.
        n: Vec<u8>,
        /// The public exponent.
        e: Vec<u8>,
    },
    /// `kty` `EC`.
    Ec {
        /// `crv`: `P-256` or `P-384`.
        curve: Curve,
        /// The x coordinate.
        x: Vec<u8>,
        /// The y coordinate.
        y: Vec<u8>,
    },
}

impl Jwk {
    /// Reads a JWK from its JSON object. Members other than `kty`, `crv`, `n`, `e`, `x`, `y` are ignored, except
    /// private key members, which refuse it.
    ///
    /// # Errors
    /// [`KasError::Key`] naming what is missing, malformed or unsupported.
    pub fn from_json_object(obj: &Map<String, Value>) -> Result<Jwk, KasError> {
        if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| obj.contains_key(**m)) {
            return Err(key_error(format!(
                "the JWK has the private member `{member}`: send the public key only"
            )));
        }
        let jwk = match string(obj, "kty")? {
            "RSA" => {
                let n = strip_leading_zeros(&bytes(obj, "n")?).to_vec();
                let e = strip_leading_zeros(&bytes(obj, "e")?).to_vec();
                Jwk::Rsa { n, e }
            }
            "EC" => {
                let curve = match string(obj, "crv")? {
                    "P-256" => Curve::P256,
                    "P-384" => Curve::P384,
                    other => {
                        return Err(key_error(format!(
                            "the JWK curve {} is not supported: use P-256 or P-384",
                            quote(other)
                        )));
                    }
                };
                Jwk::Ec { curve, x: bytes(obj, "x")?, y: bytes(obj, "y")? }
            }
            other => {
                return Err(key_error(format!(
                    "the JWK type {} is not supported: use RSA or EC",
                    quote(other)
                )));
            }
        };
        // Validate now, so a JWK that reads is a usable key.
        jwk.verification_key()?;
        Ok(jwk)
    }

    /// The JWK of an SPKI DER public key (RSA, P-256 or P-384).
    ///
    /// # Errors
    /// [`KasError::Key`] when it is none of those.
    pub fn from_spki_der(spki: &[u8]) -> Result<Jwk, KasError> {
        if let Some(curve) = Curve::of_spki(spki) {
            // A named-curve SPKI ends with its BIT STRING, the SEC 1 uncompressed point `04 || x || y`.
            let len = curve.scalar_len();
            let point = spki
                .len()
                .checked_sub(1 + 2 * len)
                .and_then(|start| spki.get(start..))
                .filter(|p| p.first() == Some(&0x04))
                .ok_or_else(|| key_error("the EC public key is not an uncompressed point".to_owned()))?;
            let x = point.get(1..=len).unwrap_or_default().to_vec();
            let y = point.get(1 + len..).unwrap_or_default().to_vec();
            return Ok(Jwk::Ec { curve, x, y });
        }
        let rsa = aws_lc_rs::rsa::PublicKey::from_der(spki)
            .map_err(|_| key_error("the public key is neither RSA nor EC P-256/P-384".to_owned()))?;
        Ok(Jwk::Rsa {
            n: rsa.modulus().big_endian_without_leading_zero().to_vec(),
            e: rsa.exponent().big_endian_without_leading_zero().to_vec(),
        })
    }

    /// The JWK as a JSON object, with `kid` when given. Members in RFC 7638 order.
    #[must_use]
    pub fn to_json(&self, kid: Option<&str>) -> Value {
        let mut v = match self {
            Jwk::Rsa { n, e } => json!({ "e": b64(e), "kty": "RSA", "n": b64(n) }),
            Jwk::Ec { curve, x, y } => json!({ "crv": crv(*curve), "kty": "EC", "x": b64(x), "y": b64(y) }),
        };
        if let (Some(kid), Value::Object(map)) = (kid, &mut v) {
            map.insert("kid".to_owned(), Value::String(kid.to_owned()));
        }
        v
    }

    /// `kty` and, for EC, the curve: `RSA`, `P-256` or `P-384`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Jwk::Rsa { .. } => "RSA",
            Jwk::Ec { curve, .. } => crv(*curve),
        }
    }

    /// A signature verification key: RS256 for RSA, ES256 for P-256, ES384 for P-384.
    pub(crate) fn verification_key(&self) -> Result<ParsedPublicKey, KasError> {
        match self {
            Jwk::Rsa { n, e } => {
                let bits = bit_length(n);
                if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
                    return Err(key_error(format!(
                        "the RSA modulus has {bits} bits: use {RSA_MIN_BITS} to {RSA_MAX_BITS}"
                    )));
                }
                RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
                    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                    .map_err(|_| key_error("the JWK is not a valid RSA public key".to_owned()))
            }
            Jwk::Ec { curve, x, y } => {
                let len = curve.scalar_len();
                if x.len() != len || y.len() != len {
                    return Err(key_error(format!("{} coordinates must be {len} bytes each", crv(*curve))));
                }
                let mut point = Vec::with_capacity(1 + 2 * len);
                point.push(0x04);
                point.extend_from_slice(x);
                point.extend_from_slice(y);
                let alg = match curve {
                    Curve::P256 => &ECDSA_P256_SHA256_FIXED,
                    Curve::P384 => &ECDSA_P384_SHA384_FIXED,
                };
                ParsedPublicKey::new(alg, &point)
                    .map_err(|_| key_error(format!("`x`, `y` is not a point on {}", crv(*curve))))
            }
        }
    }
}

/// The RFC 7638 thumbprint of a JWK: base64url (unpadded) of SHA-256 over the required members in lexicographic
/// order with no whitespace. What `cnf.jkt` of a DPoP-bound access token holds.
#[must_use]
pub fn jwk_thumbprint(jwk: &Jwk) -> String {
    // Do not change: the canonical form is fixed by RFC 7638 §3.2 (base64url values need no JSON escaping).
    let canonical = match jwk {
        Jwk::Rsa { n, e } => format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(e), b64(n)),
        Jwk::Ec { curve, x, y } => {
            format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, crv(*curve), b64(x), b64(y))
        }
    };
    b64(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
}

fn crv(curve: Curve) -> &'static str {
    match curve {
        Curve::P256 => "P-256",
        Curve::P384 => "P-384",
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn key_error(problem: String) -> KasError {
    KasError::Key { problem }
}

fn string<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str, KasError> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(key_error(format!("the JWK member `{name}` is not a string"))),
        None => Err(key_error(format!("the JWK has no `{name}`"))),
    }
}

fn bytes(obj: &Map<String, Value>, name: &str) -> Result<Vec<u8>, KasError> {
    URL_SAFE_NO_PAD
        .decode(string(obj, name)?)
        .map_err(|_| key_error(format!("the JWK member `{name}` is not unpadded base64url")))
}

/// Some encoders prefix a zero byte to keep a big-endian integer "positive"; the value is the same without.
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
    fn rfc7638_example_thumbprint() {
        // RFC 7638 §3.1.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let obj = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
        let jwk = Jwk::from_json_object(obj.as_object().unwrap()).unwrap();
        assert_eq!(jwk_thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }

    #[test]
    fn private_members_refuse_the_jwk() {
        let obj = json!({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"});
        assert!(matches!(Jwk::from_json_object(obj.as_object().unwrap()), Err(KasError::Key { .. })));
    }
}
