// Shared fixtures: keys, a raw JWS signer for hand-made claims, the shipped NATO SPIF.
#![allow(dead_code, reason = "each test file uses a subset")]

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use redoubt_kas::SigningKey;

/// A fixed "now": the crate never reads a clock.
pub const NOW: i64 = 1_700_000_000;

pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// A fresh P-256 key: its PKCS#8 PEM and the aws-lc key pair.
pub fn p256() -> (String, EcdsaKeyPair) {
    let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new()).unwrap();
    let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
    (pem("PRIVATE KEY", doc.as_ref()), kp)
}

pub fn rsa2048_pem() -> String {
    let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp).unwrap();
    pem("PRIVATE KEY", der.as_ref())
}

pub fn signer(pem: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(pem).unwrap()
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An ES256 JWS over arbitrary header and claims JSON.
pub fn es256(header: &str, claims: &str, key: &EcdsaKeyPair) -> String {
    let input = format!("{}.{}", b64url(header.as_bytes()), b64url(claims.as_bytes()));
    let sig = key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
    format!("{input}.{}", b64url(sig.as_ref()))
}

/// The SPKI DER of an ECDSA key pair.
pub fn ec_spki(key: &EcdsaKeyPair) -> Vec<u8> {
    AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(key.public_key()).unwrap().as_ref().to_vec()
}

pub fn nato() -> redoubt_label::Spif {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/nato-spif.xml");
    redoubt_label::Spif::from_xml(&std::fs::read(path).unwrap(), redoubt_label::Mode::Strict).unwrap()
}
