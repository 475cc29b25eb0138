//! Interop out: containers written here are decrypted by independent implementations — the reference
//! `otdf-python` SDK, and a verifier written with Python's `cryptography` package from the spec
//! (tests/interop/*.py). These tests fail, never skip, when python3 or a package is missing
//! (`scripts/install-test-deps` installs them from scripts/test-requirements.txt).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestRng, data, read_data, sha256_hex, target};
use redoubt_label::{Label, Mode};
use redoubt_ztdf::assertion::label::{label_assertion, label_attributes};
use redoubt_ztdf::{EncryptConfig, SegmentHashAlg, SplitMode, TdfWriter};

fn write(dir: &Path, name: &str, plain: &[u8], config: EncryptConfig, seed: u64) -> std::path::PathBuf {
    let rng = TestRng::new(seed);
    let mut w = TdfWriter::new(Vec::new(), config, &rng).unwrap();
    std::io::Write::write_all(&mut w, plain).unwrap();
    let (bytes, _) = w.finish().unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn python(script: &str, args: &[&std::ffi::OsStr]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop").join(script);
    let out = Command::new("python3").arg(&script).args(args).output().unwrap_or_else(|e| {
        panic!("python3 is required for the interop tests (scripts/install-test-deps): {e}")
    });
    assert!(
        out.status.success(),
        "{} failed: {}{}",
        script.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn label() -> Label {
    Label::from_xml(&read_data("label-nato-secret.xml"), Mode::Strict).unwrap()
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

/// (name, plaintext length, config, private keys)
fn cases() -> Vec<(&'static str, usize, EncryptConfig, Vec<&'static str>)> {
    let rsa = || vec![target("https://kas.example/kas", "kas-rsa.pub.pem")];
    vec![
        ("rsa-small", 1000, EncryptConfig { kas: rsa(), ..Default::default() }, vec!["kas-rsa.pem"]),
        ("rsa-empty", 0, EncryptConfig { kas: rsa(), ..Default::default() }, vec!["kas-rsa.pem"]),
        (
            "rsa-multi-segment",
            200_000,
            EncryptConfig { kas: rsa(), segment_size: 16 * 1024, threads: 2, ..Default::default() },
            vec!["kas-rsa.pem"],
        ),
        (
            "rsa-label",
            5000,
            EncryptConfig {
                kas: rsa(),
                attributes: label_attributes(&label(), "nato.int"),
                assertions: vec![label_assertion(&label())],
                metadata: Some(b"metadata".to_vec()),
                ..Default::default()
            },
            vec!["kas-rsa.pem"],
        ),
        (
            "rsa-hs256",
            70_000,
            EncryptConfig {
                kas: rsa(),
                segment_size: 16 * 1024,
                hash_alg: SegmentHashAlg::Hs256,
                ..Default::default()
            },
            vec!["kas-rsa.pem"],
        ),
        (
            "ec-p256",
            3000,
            EncryptConfig {
                kas: vec![target("https://kas.example", "kas-p256.pub.pem")],
                ..Default::default()
            },
            vec!["kas-p256.pem"],
        ),
        (
            "ec-p384",
            3000,
            EncryptConfig {
                kas: vec![target("https://kas.example", "kas-p384.pub.pem")],
                ..Default::default()
            },
            vec!["kas-p384.pem"],
        ),
        (
            "split-rsa-ec",
            40_000,
            EncryptConfig {
                kas: vec![
                    target("https://a.example", "kas-rsa.pub.pem"),
                    target("https://b.example", "kas-p256.pub.pem"),
                ],
                split: SplitMode::AllOf,
                segment_size: 16 * 1024,
                ..Default::default()
            },
            vec!["kas-rsa.pem", "kas-p256.pem"],
        ),
    ]
}

#[test]
fn independent_cryptography_verifier_accepts_every_kind() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    for (i, (name, len, config, keys)) in cases().into_iter().enumerate() {
        let plain = payload(len);
        let path = write(dir.path(), &format!("{name}.tdf"), &plain, config, i as u64 + 100);
        let digest = sha256_hex(&plain);
        let key_paths: Vec<_> = keys.iter().map(|k| data(&format!("keys/{k}"))).collect();
        let mut args: Vec<&std::ffi::OsStr> = vec![path.as_os_str(), std::ffi::OsStr::new(&digest)];
        args.extend(key_paths.iter().map(|p| p.as_os_str()));
        python("verify_ztdf.py", &args);
        n += 1;
    }
    assert_eq!(n, 8);
}

#[test]
fn otdf_python_decrypts_rsa_wrapped_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    // otdf-python unwraps RSA `wrapped` objects locally; it has no local EC unwrap nor key splitting.
    for (i, (name, len, config, _)) in
        cases().into_iter().enumerate().filter(|(_, c)| c.0.starts_with("rsa-"))
    {
        let plain = payload(len);
        let path = write(dir.path(), &format!("{name}.tdf"), &plain, config, i as u64 + 200);
        let key = data("keys/kas-rsa.pem");
        let digest = sha256_hex(&plain);
        python("otdf_decrypt.py", &[path.as_os_str(), key.as_os_str(), std::ffi::OsStr::new(&digest)]);
        n += 1;
    }
    assert_eq!(n, 5);
}
