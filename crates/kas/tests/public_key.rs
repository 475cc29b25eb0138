//! `kas_public_key` rendering and the algorithm names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey};
use redoubt_kas::{Algorithm, Jwk, KeyFormat, SignerKey, public_key_response, spki_pem};
use redoubt_ztdf::KasPublicKey;
use serde_json::Value;

#[test]
fn pkcs8_is_the_spki_pem() {
    let (_, kp) = common::p256();
    let spki = common::ec_spki(&kp);
    let v: Value =
        serde_json::from_str(&public_key_response(&spki, KeyFormat::Pkcs8, Some("e1")).unwrap()).unwrap();
    let pem = v["publicKey"].as_str().unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n") && pem.ends_with("-----END PUBLIC KEY-----\n"));
    assert!(pem.lines().all(|l| l.len() <= 64));
    assert_eq!(v["kid"], "e1");
    assert!(KasPublicKey::from_pem(pem).is_ok());
    let no_kid: Value =
        serde_json::from_str(&public_key_response(&spki, KeyFormat::Pkcs8, None).unwrap()).unwrap();
    assert!(no_kid.get("kid").is_none());
}

#[test]
fn jwk_is_a_json_string_as_the_platform_returns_it() {
    let rsa = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
    let spki = AsDer::<PublicKeyX509Der>::as_der(&rsa.public_key()).unwrap();
    let v: Value =
        serde_json::from_str(&public_key_response(spki.as_ref(), KeyFormat::Jwk, Some("r1")).unwrap())
            .unwrap();
    let jwk: Value = serde_json::from_str(v["publicKey"].as_str().unwrap()).unwrap();
    assert_eq!(
        (jwk["kty"].as_str(), jwk["e"].as_str(), jwk["kid"].as_str()),
        (Some("RSA"), Some("AQAB"), Some("r1"))
    );
    assert_eq!(jwk["n"].as_str().unwrap().len(), 342); // 256 bytes, unpadded base64url
    // The JWK names the same key.
    let back = Jwk::from_json_object(jwk.as_object().unwrap()).unwrap();
    assert_eq!(back, Jwk::from_spki_der(spki.as_ref()).unwrap());

    let (_, kp) = common::p256();
    let v: Value =
        serde_json::from_str(&public_key_response(&common::ec_spki(&kp), KeyFormat::Jwk, None).unwrap())
            .unwrap();
    let jwk: Value = serde_json::from_str(v["publicKey"].as_str().unwrap()).unwrap();
    assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("EC"), Some("P-256")));
    let back = Jwk::from_json_object(jwk.as_object().unwrap()).unwrap();
    assert!(SignerKey::from_jwk(&back).is_ok());
}

#[test]
fn algorithm_and_format_names() {
    for a in [Algorithm::Rsa2048, Algorithm::EcP256, Algorithm::EcP384] {
        assert_eq!(a.to_string().parse::<Algorithm>().unwrap(), a);
    }
    assert_eq!("ec:secp256r1".parse::<Algorithm>().unwrap(), Algorithm::EcP256);
    assert_eq!("RSA:2048".parse::<Algorithm>().unwrap_err().rule(), "kas-algorithm");
    assert_eq!("".parse::<KeyFormat>().unwrap(), KeyFormat::Pkcs8);
    assert_eq!("jwk".parse::<KeyFormat>().unwrap(), KeyFormat::Jwk);
    assert_eq!("der".parse::<KeyFormat>().unwrap_err().rule(), "kas-format");
    let (_, kp) = common::p256();
    let key = KasPublicKey::from_pem(&spki_pem(&common::ec_spki(&kp))).unwrap();
    assert_eq!(Algorithm::of_key(&key), Some(Algorithm::EcP256));
}
