//! The compact JWS (RFC 7515 §7.1) of a JWT: splitting, decoding, the protected header, and the signature check.
//!
//! Only what an OIDC token needs is accepted: three parts of canonical unpadded base64url, a header whose `alg` is
//! RS256 or ES256 (never `none`, never an HMAC: with a public key as its secret, HS256 is the classic algorithm
//! confusion), an optional `typ` of `JWT` or `at+jwt`, no `crit`. Keys come only from the configured JWKS: the
//! header's `jwk`, `jku`, `x5u` and `x5c` are ignored, never fetched nor trusted. The payload is returned as bytes
//! and read only after the signature verified.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::{OidcError, quote};
use crate::json::{JsonError, parse_object};
use crate::jwks::{Jwks, KeyType};

/// The signature algorithms accepted. Each needs one key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA on P-256 with SHA-256, signature `r || s` (64 bytes).
    Es256,
}

impl Alg {
    /// The JWA name. Do not change: it is the wire value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    pub(crate) fn key_type(self) -> KeyType {
        match self {
            Alg::Rs256 => KeyType::Rsa,
            Alg::Es256 => KeyType::Ec,
        }
    }
}

/// The protected header members this crate acts on.
#[derive(Debug)]
struct Header {
    alg: Alg,
    kid: Option<String>,
}

/// Checks the token's form, header and signature; returns the signed payload bytes (the claims, not yet read).
pub(crate) fn verify_signature(token: &str, max_bytes: usize, jwks: &Jwks) -> Result<Vec<u8>, OidcError> {
    if token.len() > max_bytes {
        return Err(OidcError::TokenTooLarge { size: token.len(), limit: max_bytes });
    }
    let jws = split_compact(token)?;
    let header = parse_header(&jws.header)?;
    let key = jwks.select(header.kid.as_deref(), header.alg)?;
    key.public
        .verify_sig(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|_| OidcError::BadSignature)?;
    Ok(jws.payload)
}

/// A compact JWS split and decoded, nothing verified yet: the header and payload are untrusted bytes until the
/// caller has checked [`CompactJws::signature`] over [`CompactJws::signing_input`].
#[derive(Debug)]
pub struct CompactJws<'a> {
    /// The decoded protected header (JSON, not yet parsed).
    pub header: Vec<u8>,
    /// The decoded payload (not yet parsed).
    pub payload: Vec<u8>,
    /// The decoded signature.
    pub signature: Vec<u8>,
    /// The encoded header and payload exactly as received, `.`-joined: what the signature covers
    /// (RFC 7515 §5.2 step 8).
    pub signing_input: &'a str,
}

/// Splits a compact JWS into its three parts and decodes them (canonical unpadded base64url). The caller bounds
/// the token's size first.
///
/// # Errors
/// [`OidcError::NotCompactJws`] when it is not three `.`-separated parts or the header or payload is empty;
/// [`OidcError::Base64`] when a part is not canonical unpadded base64url.
pub fn split_compact(token: &str) -> Result<CompactJws<'_>, OidcError> {
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(OidcError::NotCompactJws { problem: "it must be three parts separated by `.`" });
    };
    // An empty signature is left to the callers: `alg: none` tokens have one, and deserve their own error.
    if header_b64.is_empty() || payload_b64.is_empty() {
        return Err(OidcError::NotCompactJws { problem: "the header or the payload is empty" });
    }
    // Decode every part before acting on any, so that a malformed token is reported as such.
    let header = decode(header_b64, "header")?;
    let payload = decode(payload_b64, "payload")?;
    let signature = decode(signature_b64, "signature")?;
    let signing_input = token.rsplit_once('.').map_or("", |(input, _)| input);
    Ok(CompactJws { header, payload, signature, signing_input })
}

/// Canonical unpadded base64url: padding and non-zero trailing bits are refused, so one token has one spelling.
fn decode(part: &str, name: &'static str) -> Result<Vec<u8>, OidcError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| OidcError::Base64 { part: name })
}

fn parse_header(bytes: &[u8]) -> Result<Header, OidcError> {
    let header = parse_object(bytes).map_err(|e| match e {
        JsonError::Duplicate(name) => OidcError::DuplicateMember { part: "header", key: quote(&name) },
        JsonError::Syntax(detail) => OidcError::NotJson { part: "header", detail },
    })?;
    let alg = match header.get("alg") {
        None => return Err(OidcError::InvalidHeader { problem: "it has no `alg`".to_owned() }),
        Some(Value::String(alg)) => match alg.as_str() {
            "RS256" => Alg::Rs256,
            "ES256" => Alg::Es256,
            other if other.eq_ignore_ascii_case("none") => return Err(OidcError::AlgorithmNone),
            other => return Err(OidcError::UnsupportedAlgorithm { alg: quote(other) }),
        },
        Some(_) => return Err(OidcError::InvalidHeader { problem: "`alg` is not a string".to_owned() }),
    };
    if let Some(typ) = string(&header, "typ")? {
        // RFC 7515 §4.1.9: the `application/` prefix may be omitted, and media types are case-insensitive.
        let lower = typ.to_ascii_lowercase();
        let bare = lower.strip_prefix("application/").unwrap_or(&lower);
        if bare != "jwt" && bare != "at+jwt" {
            return Err(OidcError::UnsupportedType { typ: quote(typ) });
        }
    }
    if header.contains_key("crit") {
        return Err(OidcError::CriticalHeader);
    }
    let kid = string(&header, "kid")?.map(str::to_owned);
    Ok(Header { alg, kid })
}

fn string<'a>(header: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, OidcError> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(OidcError::InvalidHeader { problem: format!("`{name}` is not a string") }),
    }
}
