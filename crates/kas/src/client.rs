//! The client half of a rewrap, for our CLI and tests: a session key pair to receive the shares, the signed
//! request token, and opening the shares of a response.
//!
//! Randomness: the EC session scalar comes from the caller's [`RandomSource`]. RSA key generation and ECDSA
//! signing draw from aws-lc's internal generator (its API takes no other); RS256 signatures are deterministic.
//! Private keys live inside aws-lc, which cleanses them when they are freed.

use aws_lc_rs::agreement::{self, UnparsedPublicKey};
use aws_lc_rs::digest::{SHA256, SHA384, digest};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeySize, OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _,
    RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use redoubt_ztdf::key::pem_blocks;
use redoubt_ztdf::{Curve, KeyShare, RandomSource, derive_wrap_key, open_share};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::client_key::ephemeral_key;
use crate::error::KasError;
use crate::jwk::{Jwk, b64};
use crate::public_key::spki_pem;
use crate::response::{Outcome, RewrapResponse};
use crate::token::DEFAULT_MAX_AGE_SECS;

/// The kind of session key a client generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKeyKind {
    /// EC P-256: the KAS answers with a session key; shares are AES-GCM sealed.
    EcP256,
    /// EC P-384: as P-256.
    EcP384,
    /// RSA 2048: shares are RSA-OAEP-SHA1 wrapped.
    Rsa2048,
}

/// A client's session key pair for one or more rewraps.
pub struct ClientSession {
    private: SessionPrivate,
    public_spki: Vec<u8>,
}

enum SessionPrivate {
    Ec(agreement::PrivateKey, Curve),
    Rsa(OaepPrivateDecryptingKey),
}

impl std::fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.private {
            SessionPrivate::Ec(_, curve) => write!(f, "ClientSession({curve:?})"),
            SessionPrivate::Rsa(_) => f.write_str("ClientSession(rsa)"),
        }
    }
}

/// The outcome of one key access object, as the client sees it.
#[derive(Debug)]
pub struct RewrapResult {
    /// The policy id of the request.
    pub policy_id: String,
    /// The key access object id of the request.
    pub kao_id: String,
    /// The share, or why there is none (the KAS's reason, or why it did not open).
    pub share: Result<KeyShare, String>,
}

impl ClientSession {
    /// Generates a session key pair; an EC scalar is drawn from `rng`.
    ///
    /// # Errors
    /// [`KasError::Crypto`] when key generation or the random source fails.
    pub fn generate(kind: ClientKeyKind, rng: &dyn RandomSource) -> Result<ClientSession, KasError> {
        let crypto = |what| KasError::Crypto { what };
        match kind {
            ClientKeyKind::EcP256 | ClientKeyKind::EcP384 => {
                let curve = if kind == ClientKeyKind::EcP256 { Curve::P256 } else { Curve::P384 };
                let private = ephemeral_key(curve, rng)?;
                let public = private.compute_public_key().map_err(|_| crypto("ec public key"))?;
                let der =
                    AsDer::<PublicKeyX509Der<'_>>::as_der(&public).map_err(|_| crypto("ec public key"))?;
                Ok(ClientSession {
                    public_spki: der.as_ref().to_vec(),
                    private: SessionPrivate::Ec(private, curve),
                })
            }
            ClientKeyKind::Rsa2048 => {
                let private =
                    PrivateDecryptingKey::generate(KeySize::Rsa2048).map_err(|_| crypto("rsa keygen"))?;
                let der = AsDer::<PublicKeyX509Der<'_>>::as_der(&private.public_key())
                    .map_err(|_| crypto("rsa public key"))?;
                let private = OaepPrivateDecryptingKey::new(private).map_err(|_| crypto("rsa keygen"))?;
                Ok(ClientSession {
                    public_spki: der.as_ref().to_vec(),
                    private: SessionPrivate::Rsa(private),
                })
            }
        }
    }

    /// The public key to send as `clientPublicKey`: an SPKI PEM.
    #[must_use]
    pub fn public_pem(&self) -> String {
        spki_pem(&self.public_spki)
    }

    /// Opens every result of a response, in order. A result that does not open carries why, as does every
    /// permit of an EC session when the response has no usable `sessionPublicKey`.
    #[must_use]
    pub fn open_results(&self, response: &RewrapResponse) -> Vec<RewrapResult> {
        let wrap_key = match &self.private {
            SessionPrivate::Ec(private, curve) => Some(ec_wrap_key(private, *curve, response)),
            SessionPrivate::Rsa(_) => None,
        };
        let mut out = Vec::new();
        for policy in &response.responses {
            for r in &policy.results {
                let share = match &r.outcome {
                    Outcome::Fail { error } => Err(format!("the KAS refused: {error}")),
                    Outcome::Permit { wrapped_key } => match STANDARD.decode(wrapped_key) {
                        Err(_) => Err("`kasWrappedKey` is not base64".to_owned()),
                        Ok(wrapped) => match (&self.private, &wrap_key) {
                            (SessionPrivate::Rsa(key), _) => open_rsa(key, &wrapped),
                            (SessionPrivate::Ec(..), Some(Ok(k))) => {
                                open_share(k, &wrapped).map_err(|_| "the share does not open".to_owned())
                            }
                            (SessionPrivate::Ec(..), Some(Err(e))) => Err(e.clone()),
                            (SessionPrivate::Ec(..), None) => Err("no session key".to_owned()),
                        },
                    },
                };
                out.push(RewrapResult {
                    policy_id: policy.policy_id.clone(),
                    kao_id: r.kao_id.clone(),
                    share,
                });
            }
        }
        out
    }
}

fn ec_wrap_key(
    private: &agreement::PrivateKey,
    curve: Curve,
    response: &RewrapResponse,
) -> Result<Zeroizing<[u8; 32]>, String> {
    let pem = response.session_public_key.as_deref().ok_or("the response has no `sessionPublicKey`")?;
    let blocks = pem_blocks(pem).map_err(|_| "`sessionPublicKey` is not a PEM".to_owned())?;
    let [(_, spki)] = blocks.as_slice() else {
        return Err("`sessionPublicKey` is not one PEM block".to_owned());
    };
    agreement::agree(
        private,
        UnparsedPublicKey::new(curve.agreement(), spki.as_slice()),
        "`sessionPublicKey` is not on the session key's curve".to_owned(),
        |z| derive_wrap_key(z).map_err(|_| "hkdf failed".to_owned()),
    )
}

fn open_rsa(key: &OaepPrivateDecryptingKey, wrapped: &[u8]) -> Result<KeyShare, String> {
    let mut out = Zeroizing::new(vec![0u8; key.min_output_size()]);
    let plain = key
        .decrypt(&OAEP_SHA1_MGF1SHA1, wrapped, &mut out, None)
        .map_err(|_| "the share does not decrypt with the session key".to_owned())?;
    KeyShare::from_slice(plain).map_err(|_| "the share is not 32 bytes".to_owned())
}

/// A client's signing key for request tokens: P-256 (ES256), P-384 (ES384) or RSA (RS256).
pub struct SigningKey(Signer);

enum Signer {
    Ec(EcdsaKeyPair, Curve),
    Rsa(RsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.alg())
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`), as rcgen and `openssl genpkey` write.
    ///
    /// # Errors
    /// [`KasError::Key`] when it is not a P-256, P-384 or RSA private key in PKCS#8.
    pub fn from_pkcs8_pem(pem: &str) -> Result<SigningKey, KasError> {
        let bad = |problem: &str| KasError::Key { problem: problem.to_owned() };
        let blocks = pem_blocks(pem).map_err(|_| bad("the signing key is not a PEM"))?;
        let Some((_, der)) = blocks.iter().find(|(label, _)| label == "PRIVATE KEY") else {
            return Err(bad("expected a `PRIVATE KEY` (PKCS#8) PEM block"));
        };
        let der = Zeroizing::new(der.clone());
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
            return Ok(SigningKey(Signer::Ec(k, Curve::P256)));
        }
        if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &der) {
            return Ok(SigningKey(Signer::Ec(k, Curve::P384)));
        }
        RsaKeyPair::from_pkcs8(&der)
            .map(|k| SigningKey(Signer::Rsa(k)))
            .map_err(|_| bad("the signing key is neither P-256, P-384 nor RSA"))
    }

    /// The public key as SPKI DER (what the KAS verifies with: [`crate::SignerKey::from_spki_der`]).
    ///
    /// # Errors
    /// [`KasError::Crypto`] if the key cannot be encoded.
    pub fn public_spki_der(&self) -> Result<Vec<u8>, KasError> {
        let der = match &self.0 {
            Signer::Ec(k, _) => {
                AsDer::<PublicKeyX509Der<'_>>::as_der(k.public_key()).map(|d| d.as_ref().to_vec())
            }
            Signer::Rsa(k) => {
                AsDer::<PublicKeyX509Der<'_>>::as_der(k.public_key()).map(|d| d.as_ref().to_vec())
            }
        };
        der.map_err(|_| KasError::Crypto { what: "public key encoding" })
    }

    /// The public key as a JWK.
    ///
    /// # Errors
    /// [`KasError::Crypto`] if the key cannot be encoded.
    pub fn public_jwk(&self) -> Result<Jwk, KasError> {
        Jwk::from_spki_der(&self.public_spki_der()?)
    }

    fn alg(&self) -> &'static str {
        match &self.0 {
            Signer::Ec(_, Curve::P256) => "ES256",
            Signer::Ec(_, Curve::P384) => "ES384",
            Signer::Rsa(_) => "RS256",
        }
    }

    fn sign(&self, input: &[u8]) -> Result<Vec<u8>, KasError> {
        let failed = KasError::Crypto { what: "request token signature" };
        match &self.0 {
            Signer::Ec(k, curve) => {
                let d = digest(if *curve == Curve::P256 { &SHA256 } else { &SHA384 }, input);
                k.sign_digest(&d).map(|s| s.as_ref().to_vec()).map_err(|_| failed)
            }
            Signer::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign_digest(&RSA_PKCS1_SHA256, &digest(&SHA256, input), &mut sig).map_err(|_| failed)?;
                Ok(sig)
            }
        }
    }
}

/// Signs a request token over `body_json` (from [`crate::RequestBody::to_json`]), issued at `iat` (Unix
/// seconds), expiring 60 s later, as the OpenTDF SDKs do.
///
/// # Errors
/// [`KasError::Crypto`] when signing fails.
pub fn sign_request_token(body_json: &str, signer: &SigningKey, iat: i64) -> Result<String, KasError> {
    sign_with_header(body_json, signer, iat, json!({ "alg": signer.alg(), "typ": "JWT" }))
}

/// [`sign_request_token`] with the signer's public key in the header (`jwk`): for a caller with a DPoP-bound
/// bearer token, whose `cnf.jkt` must be this key's thumbprint (the KAS checks both the match and the signature).
///
/// # Errors
/// [`KasError::Crypto`] when signing or encoding the key fails.
pub fn sign_bound_request_token(body_json: &str, signer: &SigningKey, iat: i64) -> Result<String, KasError> {
    let jwk = signer.public_jwk()?.to_json(None);
    sign_with_header(body_json, signer, iat, json!({ "alg": signer.alg(), "typ": "JWT", "jwk": jwk }))
}

fn sign_with_header(
    body_json: &str,
    signer: &SigningKey,
    iat: i64,
    header: Value,
) -> Result<String, KasError> {
    // A random `jti` makes every token distinct, so two requests with the same body in the same second are not
    // taken for a replay (the KAS remembers the digest of header and claims).
    let mut jti = [0u8; 16];
    aws_lc_rs::rand::fill(&mut jti).map_err(|_| KasError::Crypto { what: "random source" })?;
    let claims = json!({
        "requestBody": body_json,
        "iat": iat,
        "exp": iat.saturating_add(DEFAULT_MAX_AGE_SECS),
        "jti": hex::encode(jti),
    });
    let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
    let signature = signer.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", b64(&signature)))
}
