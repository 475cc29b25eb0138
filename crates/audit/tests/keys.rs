//! Keys as the node has them: a PKCS#8 PEM private key, its certificate and its public key all give the same
//! key id, and a log signed with the key verifies with the certificate and with the public key.

#![allow(clippy::unwrap_used, reason = "tests")]

mod common;

use redoubt_audit::{AuditWriter, CheckpointSigner as _, LogId, NodeSigner, VerifyingKey};

const KEY: &[u8] = include_bytes!("data/node.key");
const CERT: &[u8] = include_bytes!("data/node.pem");
const PUB: &[u8] = include_bytes!("data/node.pub");

#[test]
fn private_key_certificate_and_public_key_agree() {
    let signer = NodeSigner::from_pem(KEY).unwrap();
    let cert = VerifyingKey::from_pem(CERT).unwrap();
    let public = VerifyingKey::from_pem(PUB).unwrap();
    assert_eq!(signer.key_id(), cert.key_id());
    assert_eq!(signer.key_id(), public.key_id());

    let dir = tempfile::tempdir().unwrap();
    let (mut w, _) = AuditWriter::open(dir.path(), LogId([5; 16]), common::at(0)).unwrap();
    w.append(&common::entry(1), common::at(1)).unwrap();
    w.checkpoint(&signer, common::at(2)).unwrap();
    drop(w);
    for key in [&cert, &public] {
        let file = std::fs::File::open(dir.path().join(redoubt_audit::LOG_FILE)).unwrap();
        assert!(redoubt_audit::verify(file, key).unwrap().is_ok());
    }
}

#[test]
fn wrong_key_material_is_refused_with_a_message() {
    assert!(NodeSigner::from_pem(CERT).unwrap_err().to_string().contains("no PEM private key"));
    assert!(VerifyingKey::from_pem(KEY).is_err());
    assert!(
        VerifyingKey::from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err()
    );
}
