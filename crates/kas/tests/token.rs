//! The signed request token: its rules at their boundaries, algorithms, keys and tampering.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{NOW, b64url, ec_spki, es256, p256, rsa2048_pem, signer};
use redoubt_kas::{
    KasError, SignerKey, TokenRules, header_jwk, jwk_thumbprint, sign_request_token, verify_request_token,
};

fn claims(iat: i64, exp: i64) -> String {
    format!(r#"{{"requestBody":"{{}}","iat":{iat},"exp":{exp}}}"#)
}

const HEADER: &str = r#"{"alg":"ES256","typ":"JWT"}"#;

fn check(iat: i64, exp: i64) -> Result<(), KasError> {
    let (_, kp) = p256();
    let token = es256(HEADER, &claims(iat, exp), &kp);
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    verify_request_token(&token, &key, &TokenRules::default(), NOW).map(|_| ())
}

#[test]
fn a_fresh_token_verifies_and_returns_its_body() {
    let (pem, kp) = p256();
    let token = sign_request_token(r#"{"a":1}"#, &signer(&pem), NOW).unwrap();
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    let v = verify_request_token(&token, &key, &TokenRules::default(), NOW).unwrap();
    assert_eq!(v.body, r#"{"a":1}"#);
    assert_eq!((v.iat, v.exp), (NOW, NOW + 60));
}

#[test]
fn age_boundary_60_passes_61_is_too_old() {
    // With exp = iat + 60 a 60 s old token is already expired (exp > now is required), so the age rule's
    // boundary is checked on its own: at 60 s the refusal is expiry, not age; at 61 s it is age.
    assert!(matches!(check(NOW - 60, NOW), Err(KasError::TokenExpired { ago: 0 })));
    assert!(matches!(check(NOW - 61, NOW), Err(KasError::TokenTooOld { age: 61, max: 60 })));
    assert!(check(NOW - 59, NOW + 1).is_ok());
}

#[test]
fn future_skew_boundary() {
    assert!(check(NOW + 5, NOW + 60).is_ok());
    assert!(matches!(check(NOW + 6, NOW + 60), Err(KasError::TokenNotYetValid { ahead: 6, skew: 5 })));
}

#[test]
fn exp_at_or_before_now_is_expired() {
    assert!(matches!(check(NOW - 10, NOW), Err(KasError::TokenExpired { .. })));
    assert!(matches!(check(NOW - 10, NOW - 1), Err(KasError::TokenExpired { ago: 1 })));
    assert!(check(NOW - 10, NOW + 1).is_ok());
}

#[test]
fn lifetime_over_60_is_refused() {
    assert!(check(NOW, NOW + 60).is_ok());
    assert!(matches!(check(NOW, NOW + 61), Err(KasError::TokenLifetime { lifetime: 61, max: 60 })));
}

#[test]
fn extreme_times_do_not_overflow() {
    assert!(check(i64::MIN, i64::MAX).is_err());
    assert!(check(i64::MAX, i64::MIN).is_err());
}

#[test]
fn wrong_key_is_a_bad_signature() {
    let (pem, _) = p256();
    let (_, other) = p256();
    let token = sign_request_token("{}", &signer(&pem), NOW).unwrap();
    let key = SignerKey::from_spki_der(&ec_spki(&other)).unwrap();
    let err = verify_request_token(&token, &key, &TokenRules::default(), NOW).unwrap_err();
    assert_eq!(err, KasError::TokenSignature);
    assert_eq!(err.rule(), "kas-token-signature");
}

#[test]
fn none_hs256_and_mismatched_algs_are_refused() {
    let (_, kp) = p256();
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    let body = b64url(claims(NOW, NOW + 60).as_bytes());
    for alg in ["none", "NONE", "HS256", "ES384", "RS256", "PS256"] {
        let header = b64url(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
        for sig in ["", "AAAA"] {
            let token = format!("{header}.{body}.{sig}");
            let err = verify_request_token(&token, &key, &TokenRules::default(), NOW).unwrap_err();
            assert!(matches!(err, KasError::TokenAlgorithm { .. }), "{alg}: {err}");
        }
    }
}

#[test]
fn a_tampered_payload_is_refused() {
    let (pem, kp) = p256();
    let token = sign_request_token(r#"{"a":1}"#, &signer(&pem), NOW).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged =
        b64url(format!(r#"{{"requestBody":"{{\"a\":2}}","iat":{NOW},"exp":{}}}"#, NOW + 60).as_bytes());
    let token = format!("{}.{forged}.{}", parts[0], parts[2]);
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    assert_eq!(
        verify_request_token(&token, &key, &TokenRules::default(), NOW),
        Err(KasError::TokenSignature)
    );
}

#[test]
fn malformed_tokens_and_claims() {
    let (_, kp) = p256();
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    let rules = TokenRules::default();
    let malformed =
        |t: &str| matches!(verify_request_token(t, &key, &rules, NOW), Err(KasError::TokenMalformed { .. }));
    assert!(malformed("a.b"));
    assert!(malformed("a.b.c.d"));
    assert!(malformed("!!.b.c"));
    for bad in [
        r#"{"requestBody":{},"iat":1700000000,"exp":1700000060}"#.to_owned(),
        r#"{"iat":1700000000,"exp":1700000060}"#.to_owned(),
        r#"{"requestBody":"{}","iat":1.7e9,"exp":1700000060}"#.to_owned(),
        r#"{"requestBody":"{}","iat":"1700000000","exp":1700000060}"#.to_owned(),
        r#"{"requestBody":"{}","exp":1700000060}"#.to_owned(),
        r#"{"requestBody":"{}","requestBody":"{}","iat":1700000000,"exp":1700000060}"#.to_owned(),
    ] {
        assert!(malformed(&es256(HEADER, &bad, &kp)), "{bad}");
    }
    assert!(malformed(&es256(r#"{"alg":"ES256","crit":["b64"]}"#, &claims(NOW, NOW + 60), &kp)));
    assert!(malformed(&es256(r#"{"alg":"ES256","alg":"ES256"}"#, &claims(NOW, NOW + 60), &kp)));
}

#[test]
fn too_large_is_refused_before_parsing() {
    let (_, kp) = p256();
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    let rules = TokenRules { max_token_bytes: 100, ..TokenRules::default() };
    let err = verify_request_token(&"a".repeat(101), &key, &rules, NOW).unwrap_err();
    assert_eq!(err, KasError::TokenTooLarge { size: 101, limit: 100 });
}

#[test]
fn rs256_tokens_verify_with_rsa_keys() {
    let s = signer(&rsa2048_pem());
    let token = sign_request_token("{}", &s, NOW).unwrap();
    let key = SignerKey::from_spki_der(&s.public_spki_der().unwrap()).unwrap();
    assert!(verify_request_token(&token, &key, &TokenRules::default(), NOW).is_ok());
}

#[test]
fn malleable_ecdsa_twin_has_the_same_digest() {
    // s and n - s both verify: the replay digest must not tell them apart.
    const N: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc,
        0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    ];
    let (pem, kp) = p256();
    let token = sign_request_token("{}", &signer(&pem), NOW).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
    // s' = n - s (big-endian subtraction).
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(N[i]) - i16::from(sig[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        sig[32 + i] = (d + if d < 0 { 256 } else { 0 }) as u8;
    }
    let twin = format!("{input}.{}", b64url(&sig));
    let key = SignerKey::from_spki_der(&ec_spki(&kp)).unwrap();
    let a = verify_request_token(&token, &key, &TokenRules::default(), NOW).unwrap();
    let b = verify_request_token(&twin, &key, &TokenRules::default(), NOW).unwrap();
    assert_ne!(token, twin);
    assert_eq!(a.digest, b.digest);
}

#[test]
fn header_jwk_and_its_thumbprint_match_the_signer() {
    let (pem, kp) = p256();
    let s = signer(&pem);
    let jwk = s.public_jwk().unwrap();
    let header = format!(r#"{{"alg":"ES256","jwk":{}}}"#, jwk.to_json(None));
    let token = es256(&header, &claims(NOW, NOW + 60), &kp);
    let found = header_jwk(&token).unwrap();
    assert_eq!(found, jwk);
    assert_eq!(
        jwk_thumbprint(&found),
        jwk_thumbprint(&SignerKey::from_spki_der(&ec_spki(&kp)).unwrap().jwk().clone())
    );
    let key = SignerKey::from_jwk(&found).unwrap();
    assert!(verify_request_token(&token, &key, &TokenRules::default(), NOW).is_ok());
    assert_eq!(header_jwk(&es256(HEADER, "{}", &kp)), None);
}
