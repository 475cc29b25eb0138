//! The claims of a token whose signature verified: the registered claims checked against the configuration and
//! the time passed in, then the subject's attributes mapped into a [`TokenSubject`].
//!
//! Every claim read has one accepted type; any other type is an error, never "absent". NumericDates may be
//! fractional (RFC 7519 §2): `exp` is rounded down, `nbf` and `iat` up, so rounding never widens validity.

use redoubt_label::Clearance;
use serde_json::{Map, Value};

use crate::clearance;
use crate::config::VerifierConfig;
use crate::error::{OidcError, quote};
use crate::json::{JsonError, parse_object};

/// Who a verified token speaks for, and the attributes its issuer vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSubject {
    /// The name claim ([`crate::ClaimMapping::name`]), or `sub` when the token lacks it.
    pub name: String,
    /// The role claim, if present.
    pub role: Option<String>,
    /// The clearance, when the claim is in the compact JSON or the 4774 XML form.
    pub clearance: Option<Clearance>,
    /// The classification name, when the clearance claim is a plain name such as `SECRET`.
    pub clearance_level: Option<String>,
    /// The nationality claim, if present.
    pub nationality: Option<String>,
    /// The communities of interest (empty when the claim is absent).
    pub cois: Vec<String>,
    /// `iss`: the configured issuer.
    pub issuer: String,
    /// `exp`, Unix seconds (rounded down).
    pub expires_at: i64,
    /// `jti`, if present: key replay caches on this, never on the token text (ES256 signatures are malleable).
    pub token_id: Option<String>,
    /// `cnf.jkt` (RFC 9449), if present: the RFC 7638 thumbprint of the key the token is bound to. Whoever uses
    /// the token must prove possession of that key (the KAS checks it against the request token's signer).
    pub confirmation_jkt: Option<String>,
}

/// How a fractional NumericDate is made whole.
#[derive(Clone, Copy)]
enum Round {
    Down,
    Up,
}

/// Reads the signed payload and checks it; `now` is Unix seconds.
pub(crate) fn check(payload: &[u8], config: &VerifierConfig, now: i64) -> Result<TokenSubject, OidcError> {
    let claims = parse_object(payload).map_err(|e| match e {
        JsonError::Duplicate(name) => OidcError::DuplicateMember { part: "claims", key: quote(&name) },
        JsonError::Syntax(detail) => OidcError::NotJson { part: "claims", detail },
    })?;

    let issuer = string(&claims, "iss")?.ok_or_else(|| missing("iss"))?;
    if issuer != config.issuer {
        return Err(OidcError::WrongIssuer { found: quote(issuer), expected: quote(&config.issuer) });
    }
    if !audiences(&claims)?.contains(&config.audience.as_str()) {
        return Err(OidcError::WrongAudience { expected: quote(&config.audience) });
    }

    let leeway = config.leeway_secs.max(0);
    let exp = numeric_date(&claims, "exp", Round::Down)?.ok_or_else(|| missing("exp"))?;
    if now > exp.saturating_add(leeway) {
        return Err(OidcError::Expired { exp, now, leeway });
    }
    if let Some(nbf) = numeric_date(&claims, "nbf", Round::Up)?
        && now < nbf.saturating_sub(leeway)
    {
        return Err(OidcError::NotYetValid { nbf, now, leeway });
    }
    if let Some(iat) = numeric_date(&claims, "iat", Round::Up)?
        && iat > now.saturating_add(leeway)
    {
        return Err(OidcError::IssuedInFuture { iat, now, leeway });
    }

    let mapping = &config.claims;
    let name = match string(&claims, &mapping.name)? {
        Some(name) => name,
        None => string(&claims, "sub")?
            .ok_or_else(|| OidcError::MissingSubject { claim: mapping.name.clone() })?,
    };
    let (clearance, clearance_level) = match claims.get(&mapping.clearance) {
        None => (None, None),
        Some(value) => clearance::read(&mapping.clearance, value)?,
    };
    Ok(TokenSubject {
        name: name.to_owned(),
        role: string(&claims, &mapping.role)?.map(str::to_owned),
        clearance,
        clearance_level,
        nationality: string(&claims, &mapping.nationality)?.map(str::to_owned),
        cois: string_or_strings(&claims, &mapping.cois)?,
        issuer: issuer.to_owned(),
        expires_at: exp,
        token_id: string(&claims, "jti")?.map(str::to_owned),
        confirmation_jkt: confirmation_jkt(&claims)?,
    })
}

/// `cnf.jkt`: an object with a non-empty string member, or absent.
fn confirmation_jkt(claims: &Map<String, Value>) -> Result<Option<String>, OidcError> {
    match claims.get("cnf") {
        None => Ok(None),
        Some(Value::Object(cnf)) => {
            Ok(string(cnf, "jkt").map_err(|_| wrong_type("cnf.jkt", "a string"))?.map(str::to_owned))
        }
        Some(_) => Err(wrong_type("cnf", "an object")),
    }
}

fn missing(claim: &str) -> OidcError {
    OidcError::MissingClaim { claim: claim.to_owned() }
}

fn wrong_type(claim: &str, expected: &'static str) -> OidcError {
    OidcError::ClaimType { claim: claim.to_owned(), expected }
}

/// An optional non-empty string claim.
fn string<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, OidcError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(wrong_type(name, "a non-empty string")),
    }
}

/// An optional claim holding a non-empty string or an array of them (`aud`, communities of interest).
fn string_or_strings(claims: &Map<String, Value>, name: &str) -> Result<Vec<String>, OidcError> {
    const EXPECTED: &str = "a non-empty string or an array of them";
    match claims.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) if !s.is_empty() => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                _ => Err(wrong_type(name, EXPECTED)),
            })
            .collect(),
        Some(_) => Err(wrong_type(name, EXPECTED)),
    }
}

/// `aud`: required, a string or an array of strings (RFC 7519 §4.1.3).
fn audiences(claims: &Map<String, Value>) -> Result<Vec<&str>, OidcError> {
    const EXPECTED: &str = "a string or an array of strings";
    match claims.get("aud") {
        None => Err(missing("aud")),
        Some(Value::String(s)) => Ok(vec![s.as_str()]),
        Some(Value::Array(items)) => {
            items.iter().map(|item| item.as_str().ok_or_else(|| wrong_type("aud", EXPECTED))).collect()
        }
        Some(_) => Err(wrong_type("aud", EXPECTED)),
    }
}

/// An optional NumericDate, whole seconds.
fn numeric_date(claims: &Map<String, Value>, name: &str, round: Round) -> Result<Option<i64>, OidcError> {
    const EXPECTED: &str = "a number of seconds since 1970 (NumericDate)";
    let Some(value) = claims.get(name) else { return Ok(None) };
    let Value::Number(number) = value else { return Err(wrong_type(name, EXPECTED)) };
    if let Some(whole) = number.as_i64() {
        return Ok(Some(whole));
    }
    let rounded = match (number.as_f64(), round) {
        (Some(f), Round::Down) => f.floor(),
        (Some(f), Round::Up) => f.ceil(),
        (None, _) => return Err(wrong_type(name, EXPECTED)),
    };
    // i64::MAX as f64 rounds up to 2^63, which is out of range: hence `<`.
    if rounded.is_finite() && rounded >= i64::MIN as f64 && rounded < i64::MAX as f64 {
        Ok(Some(rounded as i64))
    } else {
        Err(wrong_type(name, EXPECTED))
    }
}
