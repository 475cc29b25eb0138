//! Helpers shared by the integration tests: test keys, a deterministic random source, round trips.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::digest;
use redoubt_ztdf::{
    EncryptConfig, KasPrivateKey, KasPublicKey, KasTarget, RandomSource, TdfReader, TdfWriter, VerifyOptions,
};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn read_data(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

pub fn key_text(name: &str) -> String {
    std::fs::read_to_string(data(&format!("keys/{name}"))).unwrap()
}

pub fn private(name: &str) -> KasPrivateKey {
    KasPrivateKey::from_pem(&key_text(name)).unwrap()
}

pub fn target(url: &str, pub_name: &str) -> KasTarget {
    KasTarget {
        url: url.into(),
        key: KasPublicKey::from_pem(&key_text(pub_name)).unwrap(),
        kid: Some("k1".into()),
        sid: None,
    }
}

/// Deterministic random source for tests: SHA-256 in counter mode over a seed.
pub struct TestRng {
    seed: u64,
    counter: AtomicU64,
}

impl TestRng {
    pub fn new(seed: u64) -> Self {
        Self { seed, counter: AtomicU64::new(0) }
    }
}

impl RandomSource for TestRng {
    fn fill(&self, dest: &mut [u8]) -> Result<(), redoubt_ztdf::Error> {
        for chunk in dest.chunks_mut(32) {
            let c = self.counter.fetch_add(1, Ordering::Relaxed);
            let mut input = self.seed.to_le_bytes().to_vec();
            input.extend_from_slice(&c.to_le_bytes());
            let d = digest::digest(&digest::SHA256, &input);
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data))
}

pub fn encrypt(plain: &[u8], config: EncryptConfig) -> Vec<u8> {
    encrypt_seeded(plain, config, 7)
}

pub fn encrypt_seeded(plain: &[u8], config: EncryptConfig, seed: u64) -> Vec<u8> {
    let rng = TestRng::new(seed);
    let mut w = TdfWriter::new(Vec::new(), config, &rng).unwrap();
    std::io::Write::write_all(&mut w, plain).unwrap();
    w.finish().unwrap().0
}

pub fn decrypt(tdf: &[u8], keys: &[KasPrivateKey]) -> Result<Vec<u8>, redoubt_ztdf::Error> {
    let r = TdfReader::open(Cursor::new(tdf))?;
    let u = r.unwrap_payload_key(keys)?;
    let mut d = r.decryptor(u.key, &VerifyOptions::default())?;
    let mut out = Vec::new();
    d.decrypt_to(&mut out)?;
    Ok(out)
}

pub fn rsa_config() -> EncryptConfig {
    EncryptConfig {
        kas: vec![target("https://kas.example/kas", "kas-rsa.pub.pem")],
        segment_size: 16 * 1024,
        ..Default::default()
    }
}
