//! Test keys, a JWKS built from their public parts, and a JWS signer written here (independent of the crate).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // shared by several test binaries

use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use redoubt_oidc::{Jwks, Verifier, VerifierConfig};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://idp.example/realms/ops";
pub const AUDIENCE: &str = "redoubt";
pub const NOW: i64 = 1_750_000_000;
pub const RSA_KID: &str = "rsa-1";
pub const EC_KID: &str = "ec-1";

pub struct Keys {
    pub rsa: rsa::KeyPair,
    pub ec: EcdsaKeyPair,
}

impl Keys {
    pub fn rsa_n(&self) -> Vec<u8> {
        self.rsa.public_key().modulus().big_endian_without_leading_zero().to_vec()
    }

    pub fn rsa_e(&self) -> Vec<u8> {
        self.rsa.public_key().exponent().big_endian_without_leading_zero().to_vec()
    }

    /// (x, y) of the uncompressed point 0x04 || x || y.
    pub fn ec_xy(&self) -> (Vec<u8>, Vec<u8>) {
        let point = self.ec.public_key().as_ref();
        assert_eq!(point.len(), 65);
        assert_eq!(point[0], 0x04);
        (point[1..33].to_vec(), point[33..].to_vec())
    }
}

/// One RSA 2048 and one P-256 key, generated once per test binary.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: rsa::KeyPair::generate(KeySize::Rsa2048).unwrap(),
        ec: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap(),
    })
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn rsa_jwk() -> Value {
    let k = keys();
    json!({"kty": "RSA", "kid": RSA_KID, "use": "sig", "alg": "RS256", "n": b64(&k.rsa_n()), "e": b64(&k.rsa_e())})
}

pub fn ec_jwk() -> Value {
    let (x, y) = keys().ec_xy();
    json!({"kty": "EC", "kid": EC_KID, "use": "sig", "alg": "ES256", "crv": "P-256", "x": b64(&x), "y": b64(&y)})
}

/// The JWKS with both keys, as the issuer would publish it.
pub fn jwks_json() -> String {
    json!({"keys": [rsa_jwk(), ec_jwk()]}).to_string()
}

pub fn config() -> VerifierConfig {
    VerifierConfig::new(ISSUER, AUDIENCE)
}

pub fn verifier() -> Verifier {
    Verifier::new(Jwks::from_json(jwks_json().as_bytes()).unwrap(), config())
}

/// Claims valid at [`NOW`].
pub fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": ["account", AUDIENCE],
        "sub": "f1c2a3e4",
        "preferred_username": "alice",
        "exp": NOW + 300,
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "jti": "tok-42",
        "redoubt_role": "analyst",
        "nationality": "FRA",
        "coi": ["OPS", "INTEL"],
        "aciClr": "SECRET",
    })
}

pub fn rs256_header() -> String {
    json!({"alg": "RS256", "typ": "JWT", "kid": RSA_KID}).to_string()
}

pub fn es256_header() -> String {
    json!({"alg": "ES256", "typ": "at+jwt", "kid": EC_KID}).to_string()
}

/// `b64(header) . b64(claims)`: the JWS signing input.
pub fn signing_input(header: &str, claims: &str) -> String {
    format!("{}.{}", b64(header.as_bytes()), b64(claims.as_bytes()))
}

pub fn rs256_signature(input: &[u8]) -> Vec<u8> {
    let k = &keys().rsa;
    let mut sig = vec![0; k.public_modulus_len()];
    k.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input, &mut sig).unwrap();
    sig
}

pub fn es256_signature(input: &[u8]) -> Vec<u8> {
    keys().ec.sign(&SystemRandom::new(), input).unwrap().as_ref().to_vec()
}

/// A compact JWS over the exact header and claims texts, signed RS256 with the RSA key.
pub fn sign_rs256(header: &str, claims: &str) -> String {
    let input = signing_input(header, claims);
    format!("{input}.{}", b64(&rs256_signature(input.as_bytes())))
}

/// A compact JWS over the exact header and claims texts, signed ES256 with the EC key.
pub fn sign_es256(header: &str, claims: &str) -> String {
    let input = signing_input(header, claims);
    format!("{input}.{}", b64(&es256_signature(input.as_bytes())))
}

pub fn valid_rs256() -> String {
    sign_rs256(&rs256_header(), &claims().to_string())
}

pub fn valid_es256() -> String {
    sign_es256(&es256_header(), &claims().to_string())
}
