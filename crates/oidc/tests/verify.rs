//! Tokens signed here with real RSA 2048 and P-256 keys: the valid ones map to the expected subject, and every
//! attack or defect is refused with its own error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::*;
use redoubt_label::{Clearance, Mode};
use redoubt_oidc::{Jwks, OidcError, Verifier, VerifierConfig};
use serde_json::{Value, json};

fn with(mut claims: Value, name: &str, value: Value) -> String {
    claims[name] = value;
    claims.to_string()
}

fn without(mut claims: Value, name: &str) -> String {
    claims.as_object_mut().unwrap().remove(name);
    claims.to_string()
}

fn err(token: &str) -> OidcError {
    verifier().verify(token, NOW).unwrap_err()
}

#[test]
fn valid_rs256_token_maps_its_claims() {
    let s = verifier().verify(&valid_rs256(), NOW).unwrap();
    assert_eq!(s.name, "alice");
    assert_eq!(s.role.as_deref(), Some("analyst"));
    assert_eq!(s.clearance, None);
    assert_eq!(s.clearance_level.as_deref(), Some("SECRET"));
    assert_eq!(s.nationality.as_deref(), Some("FRA"));
    assert_eq!(s.cois, ["OPS", "INTEL"]);
    assert_eq!(s.issuer, ISSUER);
    assert_eq!(s.expires_at, NOW + 300);
    assert_eq!(s.token_id.as_deref(), Some("tok-42"));
}

#[test]
fn valid_es256_token_maps_its_claims() {
    let s = verifier().verify(&valid_es256(), NOW).unwrap();
    assert_eq!(s.name, "alice");
    assert_eq!(s.clearance_level.as_deref(), Some("SECRET"));
    assert_eq!(s.expires_at, NOW + 300);
}

#[test]
fn minimal_token_falls_back_to_sub() {
    let claims = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "exp": NOW});
    let s = verifier().verify(&sign_es256(&es256_header(), &claims.to_string()), NOW).unwrap();
    assert_eq!(s.name, "u-1");
    assert_eq!((s.role, s.clearance, s.clearance_level, s.nationality), (None, None, None, None));
    assert!(s.cois.is_empty());
    assert_eq!(s.token_id, None);
}

#[test]
fn single_key_set_needs_no_kid_and_header_variants_are_accepted() {
    let jwks = Jwks::from_json(json!({"keys": [ec_jwk()]}).to_string().as_bytes()).unwrap();
    assert_eq!(jwks.len(), 1);
    let v = Verifier::new(jwks, config());
    for header in [
        r#"{"alg":"ES256"}"#,
        r#"{"alg":"ES256","typ":"jwt"}"#,
        r#"{"alg":"ES256","typ":"application/AT+JWT"}"#,
    ] {
        v.verify(&sign_es256(header, &claims().to_string()), NOW).unwrap();
    }
}

#[test]
fn clearance_claim_forms() {
    let compact = json!({"v": 1, "pol": "NATO", "puri": "urn:oid:1.3.26.1.3.1", "cls": ["NATO UNCLASSIFIED", "NATO SECRET"],
        "cats": [{"t": "Releasable To", "k": "P", "v": ["FRA", "ITA"]}]});
    let expected = Clearance::from_compact_json(&compact.to_string()).unwrap();

    let token = sign_rs256(&rs256_header(), &with(claims(), "aciClr", compact));
    let s = verifier().verify(&token, NOW).unwrap();
    assert_eq!((s.clearance.as_ref(), s.clearance_level), (Some(&expected), None));

    let xml = expected.to_xml();
    assert_eq!(Clearance::from_xml(xml.as_bytes(), Mode::Strict).unwrap(), expected);
    let token = sign_rs256(&rs256_header(), &with(claims(), "aciClr", json!(STANDARD.encode(&xml))));
    let s = verifier().verify(&token, NOW).unwrap();
    assert_eq!((s.clearance.as_ref(), s.clearance_level), (Some(&expected), None));

    for bad in
        [json!({"v": 2, "pol": "NATO", "cls": ["X"]}), json!(STANDARD.encode("<not-a-clearance/>")), json!(7)]
    {
        let token = sign_rs256(&rs256_header(), &with(claims(), "aciClr", bad));
        assert!(matches!(err(&token), OidcError::InvalidClearance { .. }));
    }
}

#[test]
fn custom_claim_mapping() {
    let mut config = config();
    config.claims.name = "email".into();
    config.claims.cois = "groups".into();
    let v = Verifier::new(Jwks::from_json(jwks_json().as_bytes()).unwrap(), config);
    let claims =
        with(with(claims(), "email", json!("a@example.org")).parse().unwrap(), "groups", json!("OPS"));
    let s = v.verify(&sign_rs256(&rs256_header(), &claims), NOW).unwrap();
    assert_eq!((s.name.as_str(), s.cois), ("a@example.org", vec!["OPS".to_owned()]));
}

#[test]
fn expired() {
    let token = sign_rs256(&rs256_header(), &with(claims(), "exp", json!(NOW - 61)));
    assert!(matches!(err(&token), OidcError::Expired { .. }));
    // Within the leeway, and a fractional exp rounded down.
    let token = sign_rs256(&rs256_header(), &with(claims(), "exp", json!(NOW - 60)));
    verifier().verify(&token, NOW).unwrap();
    let token = sign_rs256(&rs256_header(), &with(claims(), "exp", json!((NOW - 60) as f64 + 0.9)));
    assert_eq!(verifier().verify(&token, NOW).unwrap().expires_at, NOW - 60);
    let token = sign_rs256(&rs256_header(), &without(claims(), "exp"));
    assert!(matches!(err(&token), OidcError::MissingClaim { claim } if claim == "exp"));
    let token = sign_rs256(&rs256_header(), &with(claims(), "exp", json!("tomorrow")));
    assert!(matches!(err(&token), OidcError::ClaimType { .. }));
}

#[test]
fn not_yet_valid() {
    let token = sign_rs256(&rs256_header(), &with(claims(), "nbf", json!(NOW + 61)));
    assert!(matches!(err(&token), OidcError::NotYetValid { .. }));
    let token = sign_rs256(&rs256_header(), &with(claims(), "nbf", json!(NOW + 60)));
    verifier().verify(&token, NOW).unwrap();
}

#[test]
fn issued_in_the_future() {
    let token = sign_rs256(&rs256_header(), &with(claims(), "iat", json!(NOW + 61)));
    assert!(matches!(err(&token), OidcError::IssuedInFuture { .. }));
}

#[test]
fn wrong_issuer() {
    let token = sign_rs256(&rs256_header(), &with(claims(), "iss", json!("https://evil.example")));
    let e = err(&token);
    assert!(matches!(e, OidcError::WrongIssuer { .. }));
    assert!(e.to_string().contains("`https://evil.example`"), "{e}");
}

#[test]
fn wrong_audience() {
    for aud in [json!("someone-else"), json!(["a", "b"]), json!([])] {
        let token = sign_rs256(&rs256_header(), &with(claims(), "aud", aud));
        assert!(matches!(err(&token), OidcError::WrongAudience { .. }));
    }
    let token = sign_rs256(&rs256_header(), &without(claims(), "aud"));
    assert!(matches!(err(&token), OidcError::MissingClaim { claim } if claim == "aud"));
}

#[test]
fn alg_none() {
    for alg in ["none", "None"] {
        let token = format!("{}.", signing_input(&json!({"alg": alg}).to_string(), &claims().to_string()));
        assert_eq!(err(&token), OidcError::AlgorithmNone);
    }
}

#[test]
fn hs256_keyed_with_the_rsa_public_key() {
    // The classic confusion: HMAC the token with the public key (here the modulus, and the JWK JSON) as secret.
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": RSA_KID}).to_string();
    for secret in [keys().rsa_n(), rsa_jwk().to_string().into_bytes()] {
        let input = signing_input(&header, &claims().to_string());
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &secret), input.as_bytes());
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert!(matches!(err(&token), OidcError::UnsupportedAlgorithm { alg } if alg == "`HS256`"));
    }
    let token = sign_rs256(r#"{"alg":"PS256","kid":"rsa-1"}"#, &claims().to_string());
    assert!(matches!(err(&token), OidcError::UnsupportedAlgorithm { .. }));
}

#[test]
fn rs256_token_naming_the_ec_key() {
    let header = json!({"alg": "RS256", "kid": EC_KID}).to_string();
    let token = sign_rs256(&header, &claims().to_string());
    assert!(matches!(err(&token), OidcError::KeyAlgorithmMismatch { key_type: "EC", alg: "RS256", .. }));
    let header = json!({"alg": "ES256", "kid": RSA_KID}).to_string();
    let token = sign_es256(&header, &claims().to_string());
    assert!(matches!(err(&token), OidcError::KeyAlgorithmMismatch { key_type: "RSA", alg: "ES256", .. }));
}

#[test]
fn tampered_payload() {
    let token = valid_rs256();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = b64(with(claims(), "redoubt_role", json!("admin")).as_bytes());
    assert_eq!(err(&format!("{}.{forged}.{}", parts[0], parts[2])), OidcError::BadSignature);
    let token = valid_es256();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(err(&format!("{}.{forged}.{}", parts[0], parts[2])), OidcError::BadSignature);
}

#[test]
fn tampered_signature() {
    for token in [valid_rs256(), valid_es256()] {
        let (input, sig) = token.rsplit_once('.').unwrap();
        let mut sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig).unwrap();
        sig[10] ^= 1;
        assert_eq!(err(&format!("{input}.{}", b64(&sig))), OidcError::BadSignature);
        // An empty signature.
        assert_eq!(err(&format!("{input}.")), OidcError::BadSignature);
    }
}

#[test]
fn unknown_kid_and_missing_kid() {
    let token = sign_rs256(r#"{"alg":"RS256","kid":"rsa-2"}"#, &claims().to_string());
    assert!(matches!(err(&token), OidcError::UnknownKid { kid } if kid == "`rsa-2`"));
    let token = sign_rs256(r#"{"alg":"RS256"}"#, &claims().to_string());
    assert_eq!(err(&token), OidcError::MissingKid { keys: 2 });
}

#[test]
fn duplicate_claim_keys() {
    // The signature is valid: the issuer (or whoever holds its key) signed an ambiguous document.
    let claims = claims().to_string();
    let dup = claims.replacen('{', r#"{"preferred_username":"admin","#, 1);
    let e = err(&sign_rs256(&rs256_header(), &dup));
    assert_eq!(e, OidcError::DuplicateMember { part: "claims", key: "`preferred_username`".into() });
    // Escaped spelling of the same name, and a duplicate nested in an object.
    let dup = claims.replacen('{', r#"{"\u0065xp":1,"#, 1);
    assert!(matches!(err(&sign_rs256(&rs256_header(), &dup)), OidcError::DuplicateMember { .. }));
    let dup = claims.replacen('{', r#"{"x":{"a":1,"a":2},"#, 1);
    assert!(matches!(err(&sign_rs256(&rs256_header(), &dup)), OidcError::DuplicateMember { .. }));
    let header = r#"{"alg":"RS256","kid":"rsa-1","kid":"rsa-1"}"#;
    assert!(matches!(err(&sign_rs256(header, &claims)), OidcError::DuplicateMember { part: "header", .. }));
}

#[test]
fn oversize_token() {
    let big = with(claims(), "pad", json!("x".repeat(16 * 1024)));
    assert!(matches!(err(&sign_rs256(&rs256_header(), &big)), OidcError::TokenTooLarge { limit: 16384, .. }));
}

#[test]
fn malformed_base64() {
    let token = valid_rs256();
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        (format!("{}!.{}.{}", parts[0], parts[1], parts[2]), "header"),
        (format!("{}.{}=.{}", parts[0], parts[1], parts[2]), "payload"),
        (format!("{}.{}.{}==", parts[0], parts[1], parts[2]), "signature"),
        (format!("{}.{}.{}+", parts[0], parts[1], parts[2]), "signature"),
    ];
    for (token, part) in cases {
        assert_eq!(err(&token), OidcError::Base64 { part });
    }
}

#[test]
fn not_a_compact_jws() {
    let token = valid_rs256();
    for bad in ["", "a.b", "a.b.c.d", ".b.c", "a..c"] {
        assert!(matches!(err(bad), OidcError::NotCompactJws { .. }), "{bad}");
    }
    assert!(matches!(err(&format!("{token}.x")), OidcError::NotCompactJws { .. }));
}

#[test]
fn header_defects() {
    let c = claims().to_string();
    type Check = fn(&OidcError) -> bool;
    let cases: [(&str, Check); 5] = [
        (r#"{"alg":"RS256","kid":"rsa-1","typ":"JWE"}"#, |e| matches!(e, OidcError::UnsupportedType { .. })),
        (r#"{"alg":"RS256","kid":"rsa-1","crit":["exp"]}"#, |e| *e == OidcError::CriticalHeader),
        (r#"{"kid":"rsa-1"}"#, |e| matches!(e, OidcError::InvalidHeader { .. })),
        (r#"{"alg":"RS256","kid":7}"#, |e| matches!(e, OidcError::InvalidHeader { .. })),
        (r#"["RS256"]"#, |e| matches!(e, OidcError::NotJson { part: "header", .. })),
    ];
    for (header, check) in cases {
        let e = err(&sign_rs256(header, &c));
        assert!(check(&e), "{header}: {e}");
    }
}

#[test]
fn claim_type_defects() {
    for (name, value) in [
        ("iss", json!(1)),
        ("preferred_username", json!("")),
        ("coi", json!([1])),
        ("redoubt_role", json!(["a"])),
    ] {
        let token = sign_rs256(&rs256_header(), &with(claims(), name, value));
        assert!(matches!(err(&token), OidcError::ClaimType { .. }), "{name}");
    }
    let token = sign_rs256(
        &rs256_header(),
        &without(without(claims(), "sub").parse().unwrap(), "preferred_username"),
    );
    assert!(matches!(err(&token), OidcError::MissingSubject { .. }));
}

#[test]
fn misconfigured_verifier_refuses_everything() {
    let jwks = Jwks::from_json(jwks_json().as_bytes()).unwrap();
    let v = Verifier::new(jwks, VerifierConfig::new("", AUDIENCE));
    assert!(matches!(v.verify(&valid_rs256(), NOW), Err(OidcError::Config { .. })));
}

#[test]
fn errors_never_echo_the_token() {
    let token = valid_rs256();
    let (_, sig) = token.rsplit_once('.').unwrap();
    let samples = [
        err(&format!("{token}x")),
        err(&token.replacen('.', ".x", 1)),
        verifier().verify(&token, NOW + 1000).unwrap_err(),
    ];
    for e in samples {
        let msg = e.to_string();
        assert!(!msg.contains(&sig[..16]) && !msg.contains(&token[..16]), "{msg}");
    }
}

#[test]
fn dpop_confirmation_claim() {
    let base = json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "exp": NOW});
    let sign = |claims: String| sign_es256(&es256_header(), &claims);
    let s = verifier().verify(&sign(with(base.clone(), "cnf", json!({"jkt": "0ZcOCORZNYy"}))), NOW).unwrap();
    assert_eq!(s.confirmation_jkt.as_deref(), Some("0ZcOCORZNYy"));
    assert_eq!(verifier().verify(&sign(base.to_string()), NOW).unwrap().confirmation_jkt, None);
    // A `cnf` of another shape, or a `jkt` that is not a string, is a defect, not an unbound token.
    for bad in [json!("jkt"), json!({"jkt": 7}), json!({"jkt": ""})] {
        let e = verifier().verify(&sign(with(base.clone(), "cnf", bad.clone())), NOW).unwrap_err();
        assert!(e.to_string().contains("cnf"), "{bad}: {e}");
    }
}
