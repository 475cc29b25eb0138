//! The pure core of an OpenTDF-compatible Key Access Service (KAS): everything a rewrap needs except sockets,
//! clocks, keys at rest and the access decision itself. Server side and client side.
//!
//! A rewrap, server side, in order (the node drives it; each step is a function here):
//! 1. [`verify_request_token`]: the signed request token (JWS by the caller's key, [`SignerKey`]), its age and
//!    lifetime ([`TokenRules`]); then [`ReplayGuard::check_and_insert`] with its [`VerifiedToken::digest`].
//! 2. [`RequestBody::parse`]: the bounded body, and [`ClientKey::from_pem`] of its `clientPublicKey`.
//! 3. Per key access object: [`check_kas_url`], [`parse_policy`], unwrap the share with the KAS private key
//!    (`redoubt_ztdf::unwrap_key_access`), [`check_policy_binding`], [`object_label`] and [`dissem_permits`],
//!    then the node's own access decision.
//! 4. [`Rewrapper`] (one per response) rewraps each permitted share; [`RewrapResponse`] is the answer.
//!
//! Client side: [`ClientSession`] (session key pair), [`SigningKey`] and [`sign_request_token`], then
//! [`ClientSession::open_results`] on the parsed [`RewrapResponse`].
//!
//! The crate never does I/O, never reads the clock (`now` is Unix seconds passed in), and takes randomness from
//! the caller's [`redoubt_ztdf::RandomSource`] (exceptions, inside aws-lc: RSA-OAEP padding, RSA key generation,
//! ECDSA nonces). Every input is bounded; every refusal is a [`KasError`] with a stable [`KasError::rule`].
//! `GET kas_public_key` is rendered by [`public_key_response`].

mod body;
mod client;
mod client_key;
mod decision;
mod error;
mod jwk;
mod public_key;
mod replay;
mod response;
mod token;

pub use body::{
    KaoRequest, MAX_BODY_BYTES, MAX_ID_BYTES, MAX_KAOS, MAX_KAOS_PER_POLICY, MAX_POLICIES, PolicyRef,
    PolicyRequest, RequestBody,
};
pub use client::{
    ClientKeyKind, ClientSession, RewrapResult, SigningKey, sign_bound_request_token, sign_request_token,
};
pub use client_key::{ClientKey, Rewrapper};
pub use decision::{check_kas_url, check_policy_binding, dissem_permits, object_label, parse_policy};
pub use error::KasError;
pub use jwk::{Jwk, jwk_thumbprint};
pub use public_key::{Algorithm, KeyFormat, public_key_response, spki_pem};
pub use replay::{DEFAULT_REPLAY_CAPACITY, Replay, ReplayGuard};
pub use response::{KaoResult, MAX_RESPONSE_BYTES, Outcome, PolicyResults, RewrapResponse};
pub use token::{
    DEFAULT_MAX_AGE_SECS, DEFAULT_MAX_FUTURE_SKEW_SECS, DEFAULT_MAX_TOKEN_BYTES, SignerKey, TokenRules,
    VerifiedToken, header_jwk, verify_request_token,
};

/// Standard base64 with padding: how protojson writes `bytes` fields (`kasWrappedKey`).
pub(crate) fn b64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
