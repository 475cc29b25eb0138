//! Verification of OIDC JSON Web Tokens (access and ID tokens) against the issuer's JWKS, and the mapping of their
//! claims to a [`TokenSubject`]: the third way to authenticate to a node, beside client certificates and S3 keys.
//!
//! This crate is pure: it never does I/O (the caller fetches and refreshes the JWKS), never reads a clock (the
//! caller passes `now`), never logs. It fails closed: every check that cannot be completed refuses the token, each
//! refusal is its own [`OidcError`] variant, and no message contains the token or its signature. Every input is
//! bounded: the token ([`VerifierConfig::max_token_bytes`], 16 KiB by default), the JWKS ([`MAX_JWKS_BYTES`]) and
//! its key count ([`MAX_KEYS`]). [`Verifier::verify`] is total: any string in, a result out, no panic.
//!
//! # What is checked, in order
//! 1. Form: at most `max_token_bytes`; a compact JWS (three `.`-separated parts of canonical unpadded base64url).
//! 2. Header (strict JSON, below): `alg` is `RS256` or `ES256` (`none`, `HS*` and all others refused: an HMAC
//!    keyed with a public key is the classic algorithm confusion); `typ`, if present, is `JWT` or `at+jwt`
//!    (case-insensitive, `application/` prefix allowed); no `crit`. `jwk`, `jku`, `x5u`, `x5c` are ignored: keys
//!    come only from the configured [`Jwks`].
//! 3. Key: the JWKS key named by `kid`; `kid` may be omitted only when the set holds one usable key. The key type
//!    must fit the algorithm (RSA for RS256, EC P-256 for ES256); which JWKS keys are usable is in [`Jwks`].
//! 4. Signature: RS256 = RSASSA-PKCS1-v1_5 with SHA-256, 2048 to 8192-bit keys; ES256 = ECDSA P-256 with SHA-256,
//!    64-byte `r || s`. Both through AWS-LC.
//! 5. Claims, read only once the signature verified: `iss` equals [`VerifierConfig::issuer`]; `aud` (a string or
//!    an array) contains [`VerifierConfig::audience`]; `exp` is required and `now <= exp + leeway`; `nbf`, if
//!    present, `now >= nbf - leeway`; `iat`, if present, `iat <= now + leeway`.
//!
//! Header, claims and JWKS are strict JSON: a member name twice in one object refuses the document, since two
//! readers could disagree on its value. ES256 signatures are malleable (`s` and `n - s` both verify), so one set
//! of claims can have two token spellings: a replay cache keys on [`TokenSubject::token_id`] (`jti`), never on
//! the token text.
//!
//! # Claims to subject
//! Claim names are configurable ([`ClaimMapping`]); the defaults:
//!
//! | claim | type | [`TokenSubject`] field |
//! |---|---|---|
//! | `preferred_username`, else `sub` | non-empty string, required | `name` |
//! | `redoubt_role` | non-empty string | `role` |
//! | `aciClr` | see below | `clearance` or `clearance_level` |
//! | `nationality` | non-empty string | `nationality` |
//! | `coi` | non-empty string, or an array of them | `cois` |
//! | `iss` / `exp` / `jti` | string / NumericDate / string | `issuer` / `expires_at` / `token_id` |
//!
//! A claim of another type than listed refuses the token (it is never read as absent).
//!
//! # The clearance claim (`aciClr`)
//! The subject's STANAG 4774 clearance, in one of three forms, told apart by the value alone:
//!
//! | value | read as | result |
//! |---|---|---|
//! | a JSON object | Redoubt's compact clearance form, e.g. `{"v":1,"pol":"NATO","cls":["NATO SECRET"]}` ([`redoubt_label::Clearance::from_compact_json`]) | `clearance: Some(…)`, `clearance_level: None` |
//! | a string that decodes as base64 (standard or URL-safe alphabet, padding optional) to UTF-8 text starting with `<` and ending with `>` | 4774 clearance XML, strict ([`redoubt_label::Clearance::from_xml`] with [`redoubt_label::Mode::Strict`]) | `clearance: Some(…)`, `clearance_level: None` |
//! | any other string, e.g. `"SECRET"` | a classification name only (1 to 256 bytes, no control characters or surrounding spaces); no policy, no categories | `clearance: None`, `clearance_level: Some("SECRET")` |
//!
//! A value of a recognised form that does not read (bad JSON clearance, bad XML) refuses the token: it never falls
//! back to another form. Any other JSON type refuses the token. An absent claim gives neither field.
//!
//! # Example
//! ```no_run
//! # fn run(jwks_json: &[u8], token: &str, now: i64) -> Result<(), redoubt_oidc::OidcError> {
//! use redoubt_oidc::{Jwks, Verifier, VerifierConfig};
//!
//! let jwks = Jwks::from_json(jwks_json)?;
//! let verifier = Verifier::new(jwks, VerifierConfig::new("https://idp.example/realms/ops", "redoubt"));
//! let subject = verifier.verify(token, now)?;
//! # let _ = subject; Ok(()) }
//! ```

mod claims;
mod clearance;
mod config;
mod error;
mod json;
mod jwks;
mod jws;

pub use claims::TokenSubject;
pub use config::{ClaimMapping, DEFAULT_LEEWAY_SECS, DEFAULT_MAX_TOKEN_BYTES, VerifierConfig};
pub use error::OidcError;
pub use json::{JsonError, parse_object};
pub use jwks::{Jwks, MAX_JWKS_BYTES, MAX_KEYS};
pub use jws::{CompactJws, split_compact};

/// Verifies tokens from one issuer for one audience. Cheap to share: verification takes `&self`.
#[derive(Debug, Clone)]
pub struct Verifier {
    jwks: Jwks,
    config: VerifierConfig,
}

impl Verifier {
    /// A verifier trusting `jwks` for tokens matching `config`. An empty issuer or audience makes every
    /// [`Verifier::verify`] fail with [`OidcError::Config`].
    pub fn new(jwks: Jwks, config: VerifierConfig) -> Verifier {
        Verifier { jwks, config }
    }

    /// Verifies `token` (the compact JWS, without any `Bearer ` prefix) at `now_unix` (Unix seconds) and returns
    /// the subject it speaks for.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<TokenSubject, OidcError> {
        if self.config.issuer.is_empty() || self.config.audience.is_empty() {
            return Err(OidcError::Config {
                problem: "the issuer and the audience must not be empty".to_owned(),
            });
        }
        let payload = jws::verify_signature(token, self.config.max_token_bytes, &self.jwks)?;
        claims::check(&payload, &self.config, now_unix)
    }
}
