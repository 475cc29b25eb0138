//! What a verifier accepts: the one issuer and audience it trusts, the clock leeway and size bound, and which
//! claims carry the subject's attributes.

/// Default clock leeway, seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 60;
/// Default bound on a token's size, bytes.
pub const DEFAULT_MAX_TOKEN_BYTES: usize = 16 * 1024;

/// What [`crate::Verifier`] accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// The issuer (`iss`) accepted, compared exactly (no trailing-slash or case folding). Must not be empty.
    pub issuer: String,
    /// The audience that `aud` must contain (this node's client id or resource URI). Must not be empty.
    pub audience: String,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, seconds (default 60; a negative value counts as 0).
    pub leeway_secs: i64,
    /// Largest token accepted, bytes (default 16 KiB).
    pub max_token_bytes: usize,
    /// Which claims carry the subject's attributes.
    pub claims: ClaimMapping,
}

impl VerifierConfig {
    /// A configuration for `issuer` and `audience` with the default leeway, size bound and claim names.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> VerifierConfig {
        VerifierConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_token_bytes: DEFAULT_MAX_TOKEN_BYTES,
            claims: ClaimMapping::default(),
        }
    }
}

/// Names of the claims that carry the subject's attributes (top-level claims; no paths into nested objects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMapping {
    /// The subject's name (default `preferred_username`); when the token lacks it, `sub` is used.
    pub name: String,
    /// The subject's role, a string (default `redoubt_role`).
    pub role: String,
    /// The STANAG 4774 clearance (default `aciClr`); its forms are in the crate documentation.
    pub clearance: String,
    /// The subject's nationality, a string (default `nationality`).
    pub nationality: String,
    /// Communities of interest, a string or an array of strings (default `coi`).
    pub cois: String,
}

impl Default for ClaimMapping {
    fn default() -> ClaimMapping {
        ClaimMapping {
            name: "preferred_username".to_owned(),
            role: "redoubt_role".to_owned(),
            clearance: "aciClr".to_owned(),
            nationality: "nationality".to_owned(),
            cois: "coi".to_owned(),
        }
    }
}
