//! [`KasError`]: every way a rewrap can be refused or fail, one variant each, with a stable [`KasError::rule`]
//! string for the audit log. Messages never contain key material, tokens or signatures.

/// Why a rewrap (or a step of one) was refused or failed.
///
/// Variants are grouped: the request token, the request body, the replay guard, the per-object decision, keys
/// and crypto, and the client side. The node maps them to HTTP statuses; this crate does not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KasError {
    /// The signed request token is longer than the configured bound.
    #[error(
        "the signed request token is {size} bytes, more than the {limit} allowed: send fewer key access objects"
    )]
    TokenTooLarge {
        /// Its length in bytes.
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// The signed request token is not a well-formed compact JWS with the required claims.
    #[error("the signed request token is malformed: {problem}")]
    TokenMalformed {
        /// What was wrong.
        problem: String,
    },
    /// The token's `alg` is not accepted, or does not fit the signer key.
    #[error(
        "the signed request token uses algorithm {alg}, not accepted for a {key} signer key: sign with ES256 \
         (P-256), ES384 (P-384) or RS256 (RSA)"
    )]
    TokenAlgorithm {
        /// The `alg` value, quoted.
        alg: String,
        /// The signer key's kind (`P-256`, `P-384`, `RSA`).
        key: &'static str,
    },
    /// The signature does not verify with the caller's key.
    #[error(
        "the signed request token's signature does not verify with the caller's key: sign it with that key"
    )]
    TokenSignature,
    /// `iat` is further in the future than the allowed clock skew.
    #[error(
        "the signed request token is issued {ahead} s in the future (at most {skew} s allowed): check the client clock"
    )]
    TokenNotYetValid {
        /// Seconds ahead of now.
        ahead: i64,
        /// The allowed skew.
        skew: i64,
    },
    /// `iat` is older than the allowed age.
    #[error("the signed request token was issued {age} s ago (at most {max} s allowed): sign a fresh one")]
    TokenTooOld {
        /// Seconds since `iat`.
        age: i64,
        /// The allowed age.
        max: i64,
    },
    /// `exp` is not after now.
    #[error("the signed request token expired {ago} s ago: sign a fresh one")]
    TokenExpired {
        /// Seconds since `exp` (0 when it expires right now).
        ago: i64,
    },
    /// `exp - iat` is longer than the allowed age.
    #[error(
        "the signed request token is valid for {lifetime} s (at most {max} s allowed): set `exp` closer to `iat`"
    )]
    TokenLifetime {
        /// `exp - iat`.
        lifetime: i64,
        /// The allowed lifetime.
        max: i64,
    },
    /// This token was already presented and has not expired yet.
    #[error("this signed request token was already used: sign a new one for every request")]
    Replay,
    /// The replay guard is full of live tokens, so a new one cannot be remembered.
    #[error("too many requests in flight, retry in a minute")]
    ReplayCacheFull,
    /// The request body is longer than [`crate::body::MAX_BODY_BYTES`].
    #[error("the request body is {size} bytes, more than the {limit} allowed: send fewer key access objects")]
    BodyTooLarge {
        /// Its length in bytes.
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// The request body is not the expected JSON.
    #[error("the request body is malformed: {problem}")]
    BodyMalformed {
        /// What was wrong.
        problem: String,
    },
    /// The request body has more items than a bound allows.
    #[error("the request body has {count} {what}, more than the {limit} allowed: split the request")]
    BodyLimit {
        /// What was counted.
        what: &'static str,
        /// How many there are.
        count: usize,
        /// The bound.
        limit: usize,
    },
    /// Two policies, or two key access objects of one policy, share an id.
    #[error("the {what} id {id} appears twice: give each a distinct id")]
    DuplicateId {
        /// `policy` or `key access object`.
        what: &'static str,
        /// The id, quoted.
        id: String,
    },
    /// The client public key is not usable.
    #[error("the client public key is not usable: {problem}")]
    ClientKey {
        /// What was wrong.
        problem: String,
    },
    /// The policy in the request does not read.
    #[error("the policy {id} is malformed: {problem}")]
    PolicyMalformed {
        /// The policy id, quoted.
        id: String,
        /// What was wrong.
        problem: String,
    },
    /// The key access object's policy binding does not match the policy sent with it.
    #[error(
        "the policy binding of key access object {kao} does not match its policy: send the policy from the same manifest"
    )]
    PolicyBinding {
        /// The key access object id, quoted.
        kao: String,
    },
    /// The key access object is addressed to another KAS.
    #[error("key access object url {url} names another KAS: ask that KAS")]
    ForeignKas {
        /// The URL, quoted.
        url: String,
    },
    /// The policy carries no data attributes: no label, so no decision can permit it.
    #[error(
        "the policy carries no data attributes, so no label to decide on: this KAS refuses unlabelled objects"
    )]
    NoAttributes,
    /// A data attribute is outside the namespace this KAS decides for.
    #[error("the data attribute {fqn} is outside the namespace {ns} this KAS decides for")]
    ForeignNamespace {
        /// The FQN, quoted.
        fqn: String,
        /// The namespace, quoted.
        ns: String,
    },
    /// A data attribute is not known to the SPIF (or the set of them is not a label).
    #[error("the data attributes do not form a label of the security policy: {problem}")]
    UnknownAttribute {
        /// What the label reader said.
        problem: String,
    },
    /// The policy's dissemination list does not name the caller.
    #[error("the policy's dissemination list does not name the caller")]
    Dissem,
    /// An algorithm name other than `rsa:2048`, `ec:secp256r1`, `ec:secp384r1`.
    #[error("unknown key algorithm {name}: use `rsa:2048`, `ec:secp256r1` or `ec:secp384r1`")]
    UnknownAlgorithm {
        /// The name, quoted.
        name: String,
    },
    /// A public key format other than `pkcs8` or `jwk`.
    #[error("unknown public key format {name}: use `pkcs8` or `jwk`")]
    UnknownFormat {
        /// The name, quoted.
        name: String,
    },
    /// A key (KAS public key, JWK, signing key) is malformed or of an unsupported kind.
    #[error("invalid key: {problem}")]
    Key {
        /// What was wrong.
        problem: String,
    },
    /// The rewrap response does not read (client side).
    #[error("the rewrap response is malformed: {problem}")]
    ResponseMalformed {
        /// What was wrong.
        problem: String,
    },
    /// A cryptographic operation or the random source failed (a bug or a broken platform, not the caller).
    #[error("internal cryptographic failure in {what}")]
    Crypto {
        /// Which operation.
        what: &'static str,
    },
}

impl KasError {
    /// A stable identifier for the audit log and metrics. Do not change: dashboards and alerts match on them.
    #[must_use]
    pub fn rule(&self) -> &'static str {
        match self {
            KasError::TokenTooLarge { .. } => "kas-token-too-large",
            KasError::TokenMalformed { .. } => "kas-token-malformed",
            KasError::TokenAlgorithm { .. } => "kas-token-alg",
            KasError::TokenSignature => "kas-token-signature",
            KasError::TokenNotYetValid { .. } => "kas-token-not-yet-valid",
            KasError::TokenTooOld { .. } => "kas-token-too-old",
            KasError::TokenExpired { .. } => "kas-token-expired",
            KasError::TokenLifetime { .. } => "kas-token-lifetime",
            KasError::Replay => "kas-replay",
            KasError::ReplayCacheFull => "kas-replay-cache-full",
            KasError::BodyTooLarge { .. } => "kas-body-too-large",
            KasError::BodyMalformed { .. } => "kas-body-malformed",
            KasError::BodyLimit { .. } => "kas-body-limit",
            KasError::DuplicateId { .. } => "kas-duplicate-id",
            KasError::ClientKey { .. } => "kas-client-key",
            KasError::PolicyMalformed { .. } => "kas-policy-malformed",
            KasError::PolicyBinding { .. } => "kas-policy-binding",
            KasError::ForeignKas { .. } => "kas-foreign-kas",
            KasError::NoAttributes => "kas-no-attributes",
            KasError::ForeignNamespace { .. } => "kas-foreign-namespace",
            KasError::UnknownAttribute { .. } => "kas-unknown-attribute",
            KasError::Dissem => "kas-dissem",
            KasError::UnknownAlgorithm { .. } => "kas-algorithm",
            KasError::UnknownFormat { .. } => "kas-format",
            KasError::Key { .. } => "kas-key",
            KasError::ResponseMalformed { .. } => "kas-response-malformed",
            KasError::Crypto { .. } => "kas-crypto",
        }
    }
}

/// Quotes untrusted text for a message: in backticks, at most 80 characters, control characters escaped.
pub(crate) fn quote(text: &str) -> String {
    const MAX: usize = 80;
    let mut out = String::from("`");
    for (i, c) in text.chars().enumerate() {
        if i == MAX {
            out.push('…');
            break;
        }
        if c.is_control() || c == '`' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.push('`');
    out
}
