//! Tamper matrix: flipping any byte of the payload, or changing any integrity-relevant manifest field (with
//! the ZIP CRC recomputed, as a careful attacker would), makes decryption fail closed with a precise error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use std::io::Cursor;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{decrypt, encrypt, private, rsa_config};
use redoubt_ztdf::assertion::label::xml_label_assertion;
use redoubt_ztdf::zip::{ZipWriter, read_directory};
use redoubt_ztdf::{EncryptConfig, Error, IntegrityError, TdfReader, VerifyOptions};
use serde_json::Value;

const PLAIN_LEN: usize = 16 * 1024 + 100;

fn sample() -> Vec<u8> {
    sample_seeded(7)
}

fn sample_seeded(seed: u64) -> Vec<u8> {
    let cfg = EncryptConfig {
        metadata: Some(b"meta".to_vec()),
        assertions: vec![xml_label_assertion("<ConfidentialityLabel/>")],
        ..rsa_config()
    };
    common::encrypt_seeded(&vec![0x5a; PLAIN_LEN], cfg, seed)
}

/// Splits a container into (payload, manifest JSON).
fn parts(tdf: &[u8]) -> (Vec<u8>, Value) {
    let entries = read_directory(&mut Cursor::new(tdf), 8).unwrap();
    let get = |n: &str| {
        let e = entries.iter().find(|e| e.name == n).unwrap();
        tdf[e.data_offset as usize..(e.data_offset + e.size) as usize].to_vec()
    };
    (get("0.payload"), serde_json::from_slice(&get("0.manifest.json")).unwrap())
}

fn rebuild(payload: &[u8], manifest: &Value) -> Vec<u8> {
    let mut z = ZipWriter::new(Vec::new());
    z.start_streamed("0.payload").unwrap();
    z.write_data(payload).unwrap();
    z.finish_streamed().unwrap();
    z.add_entry("0.manifest.json", &serde_json::to_vec(manifest).unwrap()).unwrap();
    z.finish().unwrap().0
}

fn flip_b64(v: &mut Value) {
    let mut b = STANDARD.decode(v.as_str().unwrap()).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x01;
    *v = Value::String(STANDARD.encode(b));
}

#[test]
fn untouched_sample_decrypts() {
    assert_eq!(decrypt(&sample(), &[private("kas-rsa.pem")]).unwrap().len(), PLAIN_LEN);
}

#[test]
fn every_payload_byte_flip_fails_naming_the_segment() {
    let tdf = sample();
    let r = TdfReader::open(Cursor::new(&tdf)).unwrap();
    let key = r.unwrap_payload_key(&[private("kas-rsa.pem")]).unwrap().key;
    let payload = r.entries().iter().find(|e| e.name == "0.payload").unwrap().clone();
    let seg0 = r.segments()[0].stored_len;
    for i in 0..payload.size {
        let mut t = tdf.clone();
        t[(payload.data_offset + i) as usize] ^= 0x80;
        let r = TdfReader::open(Cursor::new(&t)).unwrap();
        let mut d = r.decryptor(key.clone(), &VerifyOptions::default()).unwrap();
        let mut out = Vec::new();
        let err = d.decrypt_to(&mut out).unwrap_err();
        let index = usize::from(i >= seg0);
        assert!(
            matches!(err, Error::Integrity(IntegrityError::Segment { index: x, count: 2 }) if x == index),
            "byte {i}: {err}"
        );
        // Nothing of the failed segment was released: only whole verified segments before it.
        assert_eq!(out.len(), if index == 0 { 0 } else { 16 * 1024 });
    }
}

#[test]
fn payload_byte_flips_fail_the_parallel_decryptor_in_segment_order() {
    let tdf = sample();
    let r = TdfReader::open(Cursor::new(&tdf)).unwrap();
    let key = r.unwrap_payload_key(&[private("kas-rsa.pem")]).unwrap().key;
    let payload = r.entries().iter().find(|e| e.name == "0.payload").unwrap().clone();
    let seg0 = r.segments()[0].stored_len;
    // IV, ciphertext and tag bytes of both segments, through the worker pool (2 and 3 threads).
    let last = payload.size - 1;
    for i in [0, 12, 100, seg0 - 1, seg0, seg0 + 12, (seg0 + last) / 2, last] {
        for threads in [2, 3] {
            let mut t = tdf.clone();
            t[(payload.data_offset + i) as usize] ^= 0x01;
            let r = TdfReader::open(Cursor::new(&t)).unwrap();
            let mut d = r.decryptor(key.clone(), &VerifyOptions { threads, ..Default::default() }).unwrap();
            let mut out = Vec::new();
            let err = d.decrypt_to(&mut out).unwrap_err();
            let index = usize::from(i >= seg0);
            assert!(
                matches!(err, Error::Integrity(IntegrityError::Segment { index: x, count: 2 }) if x == index),
                "byte {i}, {threads} threads: {err}"
            );
            assert_eq!(out.len(), if index == 0 { 0 } else { 16 * 1024 }, "byte {i}, {threads} threads");
        }
    }
}

fn expect_failure(tdf: &[u8], what: &str, check: impl Fn(&Error) -> bool) {
    let Err(err) = decrypt(tdf, &[private("kas-rsa.pem")]) else { panic!("{what}: decrypted") };
    assert!(check(&err), "{what}: unexpected error {err}");
}

#[test]
fn manifest_field_tampering_fails_closed() {
    let (payload, m) = sample().then_parts();
    type Edit = fn(&mut Value);
    type Check = fn(&Error) -> bool;
    let cases: Vec<(&str, Edit, Check)> = vec![
        (
            "root signature",
            |m| flip_b64(&mut m["encryptionInformation"]["integrityInformation"]["rootSignature"]["sig"]),
            |e| matches!(e, Error::Integrity(IntegrityError::RootSignature)),
        ),
        (
            "segment hash",
            |m| flip_b64(&mut m["encryptionInformation"]["integrityInformation"]["segments"][1]["hash"]),
            |e| matches!(e, Error::Integrity(IntegrityError::RootSignature)),
        ),
        (
            "segment hash alg",
            |m| m["encryptionInformation"]["integrityInformation"]["segmentHashAlg"] = "HS256".into(),
            |e| {
                matches!(e, Error::Integrity(IntegrityError::RootSignature | IntegrityError::Segment { .. }))
                    || e.to_string().contains("hash of segment")
            },
        ),
        (
            "segment size",
            |m| {
                m["encryptionInformation"]["integrityInformation"]["segments"][0]["segmentSize"] =
                    16383.into()
            },
            |e| matches!(e, Error::Integrity(IntegrityError::PayloadSize { .. })),
        ),
        (
            "encrypted segment size",
            |m| {
                m["encryptionInformation"]["integrityInformation"]["segments"][1]["encryptedSegmentSize"] =
                    129.into()
            },
            |e| matches!(e, Error::Integrity(IntegrityError::PayloadSize { .. })),
        ),
        (
            "segment dropped",
            |m| {
                m["encryptionInformation"]["integrityInformation"]["segments"].as_array_mut().unwrap().pop();
            },
            |e| matches!(e, Error::Integrity(IntegrityError::PayloadSize { .. })),
        ),
        (
            "default sizes",
            |m| m["encryptionInformation"]["integrityInformation"]["encryptedSegmentSizeDefault"] = 1.into(),
            |e| matches!(e, Error::Manifest(_)),
        ),
        (
            "legacy downgrade",
            |m| {
                m.as_object_mut().unwrap().remove("schemaVersion");
            },
            |e| e.to_string().contains("hash of segment"),
        ),
        (
            "policy",
            |m| {
                let p = STANDARD.decode(m["encryptionInformation"]["policy"].as_str().unwrap()).unwrap();
                let mut p: Value = serde_json::from_slice(&p).unwrap();
                p["body"]["dataAttributes"] = serde_json::json!([{"attribute": "https://x/attr/a/value/b"}]);
                m["encryptionInformation"]["policy"] =
                    STANDARD.encode(serde_json::to_vec(&p).unwrap()).into();
            },
            |e| matches!(e, Error::Integrity(IntegrityError::PolicyBinding { .. })),
        ),
        (
            "policy binding",
            |m| flip_b64(&mut m["encryptionInformation"]["keyAccess"][0]["policyBinding"]["hash"]),
            |e| matches!(e, Error::Integrity(IntegrityError::PolicyBinding { .. })),
        ),
        (
            "wrapped key",
            |m| flip_b64(&mut m["encryptionInformation"]["keyAccess"][0]["wrappedKey"]),
            |e| matches!(e, Error::KeyAccess(_)),
        ),
        (
            "encrypted metadata",
            |m| {
                let env = STANDARD
                    .decode(m["encryptionInformation"]["keyAccess"][0]["encryptedMetadata"].as_str().unwrap())
                    .unwrap();
                let mut env: Value = serde_json::from_slice(&env).unwrap();
                flip_b64(&mut env["ciphertext"]);
                m["encryptionInformation"]["keyAccess"][0]["encryptedMetadata"] =
                    STANDARD.encode(serde_json::to_vec(&env).unwrap()).into();
            },
            |e| matches!(e, Error::Integrity(IntegrityError::Metadata { .. })),
        ),
        (
            "assertion statement",
            |m| m["assertions"][0]["statement"]["value"] = "<ConfidentialityLabel x='1'/>".into(),
            |e| matches!(e, Error::Integrity(IntegrityError::Assertion { .. })),
        ),
        (
            "assertion scope",
            |m| m["assertions"][0]["scope"] = "payload".into(),
            |e| matches!(e, Error::Integrity(IntegrityError::Assertion { .. })),
        ),
        (
            "assertion signature",
            |m| {
                let s = m["assertions"][0]["binding"]["signature"].as_str().unwrap().to_owned();
                let (head, sig) = s.rsplit_once('.').unwrap();
                let flipped = match sig.strip_prefix('A') {
                    Some(rest) => format!("B{rest}"),
                    None => format!("A{}", &sig[1..]),
                };
                m["assertions"][0]["binding"]["signature"] = format!("{head}.{flipped}").into();
            },
            |e| matches!(e, Error::Integrity(IntegrityError::Assertion { .. })),
        ),
        (
            "assertion removed binding",
            |m| {
                m["assertions"][0].as_object_mut().unwrap().remove("binding");
            },
            |e| matches!(e, Error::Integrity(IntegrityError::Assertion { .. })),
        ),
        (
            "payload algorithm",
            |m| m["encryptionInformation"]["method"]["algorithm"] = "AES-128-GCM".into(),
            |e| matches!(e, Error::Unsupported(_)),
        ),
        (
            "root signature alg",
            |m| m["encryptionInformation"]["integrityInformation"]["rootSignature"]["alg"] = "GMAC".into(),
            |e| matches!(e, Error::Unsupported(_)),
        ),
    ];
    for (what, edit, check) in cases {
        let mut mm = m.clone();
        edit(&mut mm);
        expect_failure(&rebuild(&payload, &mm), what, check);
    }
}

#[test]
fn assertion_moved_from_another_object_fails() {
    let (payload_a, mut ma) = sample().then_parts();
    let (_, mb) = sample_seeded(8).then_parts();
    // Same key is impossible across objects; the HS256 JWS of B does not verify under A's key.
    ma["assertions"][0] = mb["assertions"][0].clone();
    expect_failure(&rebuild(&payload_a, &ma), "moved assertion", |e| {
        matches!(e, Error::Integrity(IntegrityError::Assertion { .. }))
    });
}

#[test]
fn segments_swapped_fail() {
    let tdf = encrypt(&vec![7u8; 3 * 16 * 1024], rsa_config());
    let (payload, mut m) = parts(&tdf);
    let seg = 16 * 1024 + 28;
    let mut swapped = payload.clone();
    swapped[..seg].copy_from_slice(&payload[seg..2 * seg]);
    swapped[seg..2 * seg].copy_from_slice(&payload[..seg]);
    expect_failure(&rebuild(&swapped, &m), "swapped segments", |e| {
        matches!(e, Error::Integrity(IntegrityError::Segment { index: 0, .. }))
    });
    // Swapping the hashes too breaks the root signature.
    let segs = &mut m["encryptionInformation"]["integrityInformation"]["segments"];
    let (a, b) = (segs[0].clone(), segs[1].clone());
    segs[0] = b;
    segs[1] = a;
    expect_failure(&rebuild(&swapped, &m), "swapped with hashes", |e| {
        matches!(e, Error::Integrity(IntegrityError::RootSignature))
    });
}

#[test]
fn truncated_or_extended_payload_fails() {
    let (payload, m) = sample().then_parts();
    expect_failure(&rebuild(&payload[..payload.len() - 1], &m), "truncated", |e| {
        matches!(e, Error::Integrity(IntegrityError::PayloadSize { .. }))
    });
    let mut longer = payload.clone();
    longer.push(0);
    expect_failure(&rebuild(&longer, &m), "extended", |e| {
        matches!(e, Error::Integrity(IntegrityError::PayloadSize { .. }))
    });
}

#[test]
fn manifest_byte_flips_fail_the_crc() {
    let tdf = sample();
    let entries = read_directory(&mut Cursor::new(&tdf), 8).unwrap();
    let e = entries.iter().find(|e| e.name == "0.manifest.json").unwrap();
    for i in (0..e.size).step_by(13) {
        let mut t = tdf.clone();
        t[(e.data_offset + i) as usize] ^= 0x04;
        let err = TdfReader::open(Cursor::new(&t)).unwrap_err();
        assert!(matches!(err, Error::Integrity(IntegrityError::Crc(_))), "{err}");
    }
}

trait ThenParts {
    fn then_parts(self) -> (Vec<u8>, Value);
}

impl ThenParts for Vec<u8> {
    fn then_parts(self) -> (Vec<u8>, Value) {
        parts(&self)
    }
}
