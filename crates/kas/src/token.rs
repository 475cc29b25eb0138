//! The signed request token of a rewrap: a compact JWS (RFC 7515) signed by the caller's key, whose claims carry
//! the request body as a JSON string (`requestBody`) and its validity (`iat`, `exp`).
//!
//! Checked in order, each refusal its own [`KasError`] variant: size ([`TokenRules::max_token_bytes`]); form
//! (three parts of canonical unpadded base64url, strict JSON header: a member twice refuses it); `alg` is ES256
//! (P-256), ES384 (P-384) or RS256 (RSA, 2048 to 8192 bits) and fits the signer key (`none`, HMACs and all others
//! refused; `typ` ignored; any `crit` refused); the signature; then the claims (strict JSON: `requestBody` a
//! string, `iat` and `exp` integers, all required) against `now`:
//!
//! | rule | error |
//! |---|---|
//! | `iat <= now + max_future_skew_secs` | [`KasError::TokenNotYetValid`] |
//! | `now - iat <= max_age_secs` | [`KasError::TokenTooOld`] |
//! | `exp > now` | [`KasError::TokenExpired`] |
//! | `exp - iat <= max_age_secs` | [`KasError::TokenLifetime`] |
//!
//! The replay digest ([`VerifiedToken::digest`]) is SHA-256 of the *signing input* (`header.payload`), not of the
//! whole token: ECDSA signatures are malleable (`s` and `n - s` both verify), so hashing the signature too would
//! let a captured token be replayed under its twin spelling.

use aws_lc_rs::digest;
use aws_lc_rs::signature::ParsedPublicKey;
use redoubt_oidc::{JsonError, parse_object, split_compact};
use serde_json::{Map, Value};

use crate::error::{KasError, quote};
use crate::jwk::Jwk;

/// Default largest token, in bytes (the body it carries is bounded by the same figure).
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 1024 * 1024;
/// Default largest age of a token and largest `exp - iat`, in seconds: the OpenTDF SDKs sign `exp = iat + 60`.
pub const DEFAULT_MAX_AGE_SECS: i64 = 60;
/// Default tolerance for a client clock ahead of ours, in seconds.
pub const DEFAULT_MAX_FUTURE_SKEW_SECS: i64 = 5;

/// The bounds a request token is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenRules {
    /// Largest `now - iat` and largest `exp - iat`, in seconds.
    pub max_age_secs: i64,
    /// Largest `iat - now`, in seconds.
    pub max_future_skew_secs: i64,
    /// Largest token, in bytes.
    pub max_token_bytes: usize,
}

impl Default for TokenRules {
    fn default() -> Self {
        TokenRules {
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            max_future_skew_secs: DEFAULT_MAX_FUTURE_SKEW_SECS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
        }
    }
}

/// The key a request token must be signed with: the caller's (its client certificate's key, or the DPoP key its
/// access token is bound to).
#[derive(Debug, Clone)]
pub struct SignerKey {
    jwk: Jwk,
    key: ParsedPublicKey,
}

impl SignerKey {
    /// From an SPKI DER public key: RSA (2048 to 8192 bits), EC P-256 or P-384.
    ///
    /// # Errors
    /// [`KasError::Key`] for another kind of key.
    pub fn from_spki_der(spki: &[u8]) -> Result<SignerKey, KasError> {
        Self::from_jwk(&Jwk::from_spki_der(spki)?)
    }

    /// From a public JWK.
    ///
    /// # Errors
    /// [`KasError::Key`] when the key is not usable for signatures (RSA size, point not on the curve).
    pub fn from_jwk(jwk: &Jwk) -> Result<SignerKey, KasError> {
        Ok(SignerKey { key: jwk.verification_key()?, jwk: jwk.clone() })
    }

    /// The key as a JWK.
    #[must_use]
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The one `alg` this key verifies.
    fn alg(&self) -> &'static str {
        match self.jwk.kind() {
            "RSA" => "RS256",
            "P-256" => "ES256",
            _ => "ES384",
        }
    }
}

/// A request token whose signature and times were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The `requestBody` claim: the request body JSON, not yet parsed (see [`crate::body::RequestBody::parse`]).
    pub body: String,
    /// `iat`, Unix seconds.
    pub iat: i64,
    /// `exp`, Unix seconds.
    pub exp: i64,
    /// SHA-256 of the signing input, for [`crate::replay::ReplayGuard`] (see the module comment for why not of
    /// the whole token).
    pub digest: [u8; 32],
}

/// Verifies a signed request token with the caller's key at `now_unix` (Unix seconds).
///
/// # Errors
/// One [`KasError`] `Token*` variant per rule; see the module comment.
pub fn verify_request_token(
    token: &str,
    signer: &SignerKey,
    rules: &TokenRules,
    now_unix: i64,
) -> Result<VerifiedToken, KasError> {
    if token.len() > rules.max_token_bytes {
        return Err(KasError::TokenTooLarge { size: token.len(), limit: rules.max_token_bytes });
    }
    let jws = split_compact(token).map_err(|e| malformed(e.to_string()))?;
    let header = strict(&jws.header, "header")?;
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        Some(_) => return Err(malformed("`alg` is not a string".to_owned())),
        None => return Err(malformed("the header has no `alg`".to_owned())),
    };
    if alg != signer.alg() {
        return Err(KasError::TokenAlgorithm { alg: quote(alg), key: signer.jwk.kind() });
    }
    if header.contains_key("crit") {
        return Err(malformed("the header has `crit`, which this KAS does not understand".to_owned()));
    }
    signer
        .key
        .verify_sig(jws.signing_input.as_bytes(), &jws.signature)
        .map_err(|_| KasError::TokenSignature)?;

    let claims = strict(&jws.payload, "claims")?;
    let body = match claims.get("requestBody") {
        Some(Value::String(body)) => body.clone(),
        Some(_) => return Err(malformed("`requestBody` is not a string".to_owned())),
        None => return Err(malformed("the claims have no `requestBody`".to_owned())),
    };
    let iat = integer(&claims, "iat")?;
    let exp = integer(&claims, "exp")?;
    check_times(iat, exp, rules, now_unix)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, jws.signing_input.as_bytes()).as_ref());
    Ok(VerifiedToken { body, iat, exp, digest: out })
}

/// The `jwk` member of a token's protected header, if it holds a usable public RSA or EC key. Nothing is
/// verified: the caller compares its [`crate::jwk_thumbprint`] with the access token's `cnf.jkt` before trusting it
/// as the signer key.
#[must_use]
pub fn header_jwk(token: &str) -> Option<Jwk> {
    if token.len() > DEFAULT_MAX_TOKEN_BYTES {
        return None;
    }
    let jws = split_compact(token).ok()?;
    let header = parse_object(&jws.header).ok()?;
    match header.get("jwk") {
        Some(Value::Object(obj)) => Jwk::from_json_object(obj).ok(),
        _ => None,
    }
}

fn check_times(iat: i64, exp: i64, rules: &TokenRules, now: i64) -> Result<(), KasError> {
    // i128: hostile values near i64::MIN / MAX must not overflow.
    let (iat, exp, now) = (i128::from(iat), i128::from(exp), i128::from(now));
    let (max_age, skew) = (i128::from(rules.max_age_secs), i128::from(rules.max_future_skew_secs));
    let clamp = |v: i128| i64::try_from(v).unwrap_or(i64::MAX);
    if iat - now > skew {
        return Err(KasError::TokenNotYetValid { ahead: clamp(iat - now), skew: rules.max_future_skew_secs });
    }
    if now - iat > max_age {
        return Err(KasError::TokenTooOld { age: clamp(now - iat), max: rules.max_age_secs });
    }
    if exp <= now {
        return Err(KasError::TokenExpired { ago: clamp(now - exp) });
    }
    if exp - iat > max_age {
        return Err(KasError::TokenLifetime { lifetime: clamp(exp - iat), max: rules.max_age_secs });
    }
    Ok(())
}

fn strict(bytes: &[u8], part: &str) -> Result<Map<String, Value>, KasError> {
    parse_object(bytes).map_err(|e| match e {
        JsonError::Duplicate(name) => malformed(format!("the {part} has the member {} twice", quote(&name))),
        JsonError::Syntax(detail) => malformed(format!("the {part} is not a JSON object: {detail}")),
    })
}

fn integer(claims: &Map<String, Value>, name: &str) -> Result<i64, KasError> {
    match claims.get(name) {
        Some(v) => {
            v.as_i64().ok_or_else(|| malformed(format!("`{name}` is not an integer number of seconds")))
        }
        None => Err(malformed(format!("the claims have no `{name}`"))),
    }
}

fn malformed(problem: String) -> KasError {
    KasError::TokenMalformed { problem }
}
