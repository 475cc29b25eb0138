//! The crate's error type: one variant per reason a key set or a token is refused.
//!
//! Three groups, kept apart so the node can map them at its boundary: the identity provider's key set is unusable
//! (`Jwks*`, `InvalidKey`, …: an operator problem), the verifier was configured badly (`Config`: a caller bug), and
//! the token is refused (everything else: the client's problem, an HTTP 401). Messages never contain the token or
//! its signature; values read from an unauthenticated header are quoted shortened and escaped (see [`quote`]).

/// Why a JWKS or a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The JWKS document is over the size bound.
    #[error("the JWKS of {size} bytes is over the limit of {limit} bytes: refusing to read it")]
    JwksTooLarge {
        /// Size of the document.
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// The JWKS document is not a JSON object with a `keys` array.
    #[error("the JWKS is not valid: {problem}")]
    JwksInvalid {
        /// What is wrong.
        problem: String,
    },
    /// The JWKS lists more keys than the bound.
    #[error("the JWKS lists {count} keys, over the limit of {limit}: refusing to read it")]
    TooManyKeys {
        /// Keys listed.
        count: usize,
        /// The bound.
        limit: usize,
    },
    /// One key of the JWKS is malformed or too weak.
    #[error("JWKS key #{index}: {problem}")]
    InvalidKey {
        /// Position of the key in `keys`, from 0.
        index: usize,
        /// What is wrong.
        problem: String,
    },
    /// A key of the JWKS carries private key material: whoever published it can forge tokens.
    #[error(
        "JWKS key #{index} carries private key material: refusing the whole set, \
         rotate the identity provider's keys"
    )]
    PrivateKeyInJwks {
        /// Position of the key in `keys`, from 0.
        index: usize,
    },
    /// Two usable keys share a `kid`.
    #[error("two keys of the JWKS have kid {kid}: a kid must name one key")]
    DuplicateKid {
        /// The kid, quoted.
        kid: String,
    },
    /// No key of the JWKS can verify RS256 or ES256.
    #[error("the JWKS holds no RSA (2048 to 8192 bits) or EC P-256 signing key: no token could be verified")]
    NoUsableKeys,

    /// The verifier's configuration cannot verify anything.
    #[error("the OIDC verifier is misconfigured: {problem}")]
    Config {
        /// What is wrong.
        problem: String,
    },

    /// The token is larger than the configured bound.
    #[error("the token of {size} bytes is over the limit of {limit} bytes")]
    TokenTooLarge {
        /// Size of the token.
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// The token is not three non-empty dot-separated parts.
    #[error("the token is not a compact JWS: {problem}")]
    NotCompactJws {
        /// What is wrong.
        problem: &'static str,
    },
    /// A part of the token is not unpadded base64url.
    #[error("the token's {part} is not unpadded base64url")]
    Base64 {
        /// `header`, `payload` or `signature`.
        part: &'static str,
    },
    /// The header or the claims are not a JSON object.
    #[error("the token's {part} is not a JSON object: {detail}")]
    NotJson {
        /// `header` or `claims`.
        part: &'static str,
        /// What the JSON reader said.
        detail: String,
    },
    /// A member name appears twice in the header or the claims: readers could disagree on its value.
    #[error("the token's {part} has member {key} twice: refusing an ambiguous token")]
    DuplicateMember {
        /// `header` or `claims`.
        part: &'static str,
        /// The member name, quoted.
        key: String,
    },
    /// The header says `alg: none`.
    #[error("the token is unsigned (alg `none`): unsigned tokens are never accepted")]
    AlgorithmNone,
    /// The header names another algorithm than RS256 or ES256 (HS256 among them: algorithm confusion).
    #[error("the token's algorithm {alg} is not accepted: only RS256 and ES256 are")]
    UnsupportedAlgorithm {
        /// The `alg` value, quoted.
        alg: String,
    },
    /// A header member is missing or has the wrong type.
    #[error("the token's header is not valid: {problem}")]
    InvalidHeader {
        /// What is wrong.
        problem: String,
    },
    /// The header's `typ` is neither `JWT` nor `at+jwt`.
    #[error("the token's type {typ} is not accepted: use `JWT` or `at+jwt`")]
    UnsupportedType {
        /// The `typ` value, quoted.
        typ: String,
    },
    /// The header has `crit`: this verifier understands no JWS extension.
    #[error("the token's header lists critical extensions (`crit`): none is supported")]
    CriticalHeader,
    /// The JWKS has several keys and the token names none.
    #[error("the token has no `kid` and the JWKS holds {keys} keys: the issuer must name its key")]
    MissingKid {
        /// Usable keys in the JWKS.
        keys: usize,
    },
    /// The token's `kid` names no usable key.
    #[error("the token's key {kid} is not in the JWKS: reload the issuer's JWKS if it rotated its keys")]
    UnknownKid {
        /// The kid, quoted.
        kid: String,
    },
    /// The named key is of another type than the algorithm needs (an EC key for RS256, …).
    #[error("the token's algorithm {alg} cannot be verified with the {key_type} key {kid}")]
    KeyAlgorithmMismatch {
        /// The kid, quoted, or `(none)`.
        kid: String,
        /// `RSA` or `EC`.
        key_type: &'static str,
        /// `RS256` or `ES256`.
        alg: &'static str,
    },
    /// The signature does not verify: the token was altered or signed by another key.
    #[error("the token's signature does not verify")]
    BadSignature,

    /// A required claim is absent.
    #[error("the token has no `{claim}` claim")]
    MissingClaim {
        /// The claim name.
        claim: String,
    },
    /// Neither the configured name claim nor `sub` is present.
    #[error("the token names no subject: it has neither a `{claim}` nor a `sub` claim")]
    MissingSubject {
        /// The configured name claim.
        claim: String,
    },
    /// A claim has the wrong type or an empty value.
    #[error("the token's `{claim}` claim is not {expected}")]
    ClaimType {
        /// The claim name.
        claim: String,
        /// What it should be.
        expected: &'static str,
    },
    /// `iss` is another issuer.
    #[error("the token was issued by {found}, not by the configured issuer {expected}")]
    WrongIssuer {
        /// The token's issuer, quoted.
        found: String,
        /// The configured issuer, quoted.
        expected: String,
    },
    /// `aud` does not contain the configured audience.
    #[error("the token is not meant for this node: its audience does not contain {expected}")]
    WrongAudience {
        /// The configured audience, quoted.
        expected: String,
    },
    /// `exp` (plus the leeway) is in the past.
    #[error("the token expired at {exp} (now {now}, leeway {leeway} s): get a new token")]
    Expired {
        /// `exp`, Unix seconds.
        exp: i64,
        /// The time of the check.
        now: i64,
        /// The leeway allowed.
        leeway: i64,
    },
    /// `nbf` (minus the leeway) is in the future.
    #[error("the token is not valid before {nbf} (now {now}, leeway {leeway} s): check the clocks")]
    NotYetValid {
        /// `nbf`, Unix seconds.
        nbf: i64,
        /// The time of the check.
        now: i64,
        /// The leeway allowed.
        leeway: i64,
    },
    /// `iat` is further in the future than the leeway.
    #[error("the token was issued in the future at {iat} (now {now}, leeway {leeway} s): check the clocks")]
    IssuedInFuture {
        /// `iat`, Unix seconds.
        iat: i64,
        /// The time of the check.
        now: i64,
        /// The leeway allowed.
        leeway: i64,
    },
    /// The clearance claim is present but is none of the accepted forms, or its content is invalid.
    #[error("the token's `{claim}` clearance claim is not valid: {problem}")]
    InvalidClearance {
        /// The claim name.
        claim: String,
        /// What is wrong.
        problem: String,
    },
}

/// Quotes a value taken from the token for an error message: backticks, at most 64 characters, control and
/// non-ASCII characters escaped, so a message can never carry a token-sized or terminal-altering string.
pub(crate) fn quote(value: &str) -> String {
    const MAX_CHARS: usize = 64;
    let mut out = String::from("`");
    for (i, c) in value.chars().enumerate() {
        if i == MAX_CHARS {
            out.push('…');
            break;
        }
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out.push('`');
    out
}
