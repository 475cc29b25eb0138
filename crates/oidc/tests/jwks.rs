//! The JWKS reader: what keys it keeps, skips and refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use common::*;
use redoubt_oidc::{Jwks, MAX_JWKS_BYTES, OidcError};
use serde_json::{Value, json};

fn read(keys: Vec<Value>) -> Result<Jwks, OidcError> {
    Jwks::from_json(json!({ "keys": keys }).to_string().as_bytes())
}

fn set(mut jwk: Value, name: &str, value: Value) -> Value {
    jwk[name] = value;
    jwk
}

#[test]
fn both_keys_are_read() {
    assert_eq!(Jwks::from_json(jwks_json().as_bytes()).unwrap().len(), 2);
}

#[test]
fn keys_for_other_uses_and_algorithms_are_skipped() {
    let skipped = vec![
        set(rsa_jwk(), "use", json!("enc")),
        set(set(rsa_jwk(), "alg", json!("RSA-OAEP")), "kid", json!("enc-1")),
        set(set(rsa_jwk(), "alg", json!("PS256")), "kid", json!("ps")),
        set(set(rsa_jwk(), "key_ops", json!(["encrypt"])), "kid", json!("ops")),
        set(set(ec_jwk(), "crv", json!("P-384")), "kid", json!("p384")),
        json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
    ];
    let mut keys = skipped.clone();
    keys.push(ec_jwk());
    assert_eq!(read(keys).unwrap().len(), 1);
    assert_eq!(read(skipped).unwrap_err(), OidcError::NoUsableKeys);
}

#[test]
fn weak_or_malformed_keys_refuse_the_set() {
    let short_n = b64(&keys().rsa_n()[..128]);
    let (x, _) = keys().ec_xy();
    let bad = [
        set(rsa_jwk(), "n", json!(short_n)),
        set(rsa_jwk(), "e", json!(b64(&[2]))),
        set(rsa_jwk(), "n", json!("not base64!")),
        set(ec_jwk(), "y", json!(b64(&x))), // (x, x) is not on the curve (overwhelmingly)
        set(ec_jwk(), "x", json!(b64(&[1; 31]))),
        set(rsa_jwk(), "kid", json!(5)),
        json!({"kid": "no-kty"}),
    ];
    for jwk in bad {
        assert!(matches!(read(vec![jwk.clone()]), Err(OidcError::InvalidKey { index: 0, .. })), "{jwk}");
    }
}

#[test]
fn a_leading_zero_in_the_modulus_is_tolerated() {
    let mut n = vec![0];
    n.extend(keys().rsa_n());
    let jwks = read(vec![set(rsa_jwk(), "n", json!(b64(&n)))]).unwrap();
    redoubt_oidc::Verifier::new(jwks, config()).verify(&valid_rs256(), NOW).unwrap();
}

#[test]
fn private_material_refuses_the_set() {
    let jwk = set(ec_jwk(), "d", json!(b64(&[7; 32])));
    assert_eq!(read(vec![ec_jwk(), rsa_jwk(), jwk]).unwrap_err(), OidcError::PrivateKeyInJwks { index: 2 });
    let oct = json!({"kty": "oct", "k": "c2VjcmV0"});
    assert_eq!(read(vec![oct]).unwrap_err(), OidcError::PrivateKeyInJwks { index: 0 });
}

#[test]
fn duplicate_kids_and_members_refuse_the_set() {
    let twin = set(rsa_jwk(), "kid", json!(EC_KID));
    assert!(matches!(read(vec![ec_jwk(), twin]), Err(OidcError::DuplicateKid { .. })));
    let text = json!({"keys": [ec_jwk()]}).to_string().replacen("\"kty\"", "\"crv\":\"P-384\",\"kty\"", 1);
    assert!(matches!(Jwks::from_json(text.as_bytes()), Err(OidcError::JwksInvalid { .. })));
}

#[test]
fn bounds() {
    let many: Vec<Value> = (0..101).map(|i| set(ec_jwk(), "kid", json!(format!("k{i}")))).collect();
    assert_eq!(read(many).unwrap_err(), OidcError::TooManyKeys { count: 101, limit: 100 });
    let hundred: Vec<Value> = (0..100).map(|i| set(ec_jwk(), "kid", json!(format!("k{i}")))).collect();
    assert_eq!(read(hundred).unwrap().len(), 100);
    let huge = vec![b' '; MAX_JWKS_BYTES + 1];
    assert!(matches!(Jwks::from_json(&huge), Err(OidcError::JwksTooLarge { .. })));
}

#[test]
fn not_a_key_set() {
    for text in ["", "[]", "{}", r#"{"keys":{}}"#, r#"{"keys":[]} x"#] {
        assert!(matches!(Jwks::from_json(text.as_bytes()), Err(OidcError::JwksInvalid { .. })), "{text}");
    }
    assert_eq!(Jwks::from_json(br#"{"keys":[]}"#).unwrap_err(), OidcError::NoUsableKeys);
}
