//! The file backend from the outside: keys made, wrapped to, unwrapped, rotated, shredded and reopened, and
//! the KEK checks (wrong KEK changes nothing; zero-configuration KEK file; passphrase).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use aws_lc_rs::agreement;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use redoubt_custody::{
    Algorithm, CustodyError, FileCustody, KEK_ENV, KEK_FILE, KEK_PASSPHRASE_ENV, Kek, KeyCustody, KeyState,
};
use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::{KasTarget, KeyShare, SystemRandomSource, wrap_key_access};
use zeroize::Zeroizing;

const NOW: i64 = 1_700_000_000;

fn open(dir: &Path, kek: [u8; 32]) -> FileCustody {
    FileCustody::open(dir, Kek::from_bytes(kek)).unwrap().0
}

/// Wraps a fresh share to the public key of `kid`.
fn wrap_to(custody: &dyn KeyCustody, kid: &str) -> (KeyShare, KeyAccessObject) {
    let rng = SystemRandomSource::new();
    let share = KeyShare::random(&rng).unwrap();
    let (key, _) = custody.public_key(kid).unwrap();
    let target = KasTarget { url: "https://kas.test".into(), key, kid: Some(kid.into()), sid: None };
    let kao = wrap_key_access(&share, &target, None, "cG9saWN5", None, &rng).unwrap();
    (share, kao)
}

fn assert_unwraps(custody: &dyn KeyCustody, kid: &str) -> KeyAccessObject {
    let (share, kao) = wrap_to(custody, kid);
    assert_eq!(custody.unwrap(kid, &kao).unwrap(), share, "{kid}");
    kao
}

/// Every file of a folder with its bytes and mode.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let mode = e.metadata().unwrap().permissions().mode();
            (e.file_name().to_string_lossy().into_owned(), (fs::read(e.path()).unwrap(), mode))
        })
        .collect()
}

#[test]
fn defaults_make_three_keys_that_unwrap_what_is_wrapped_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let custody = open(dir.path(), [7; 32]);
    assert_eq!(custody.backend(), "file");
    custody.ensure_defaults(NOW).unwrap();
    custody.ensure_defaults(NOW + 1).unwrap();
    let list = custody.list();
    let got: Vec<_> = list.iter().map(|k| (k.kid.as_str(), k.algorithm, k.state)).collect();
    assert_eq!(
        got,
        [
            ("rsa2048-1", Algorithm::Rsa2048, KeyState::Active),
            ("p256-1", Algorithm::EcP256, KeyState::Active),
            ("p384-1", Algorithm::EcP384, KeyState::Active),
        ]
    );
    for info in &list {
        assert_eq!(custody.current(info.algorithm).unwrap().kid, info.kid);
        let (key, spki) = custody.public_key(&info.kid).unwrap();
        assert_eq!(key.describe(), info.algorithm.as_str());
        assert!(!spki.is_empty());
        assert_unwraps(&custody, &info.kid);
        let mode =
            fs::metadata(dir.path().join(format!("{}.key.enc", info.kid))).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(fs::metadata(dir.path().join("keyring.json")).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_key_of_one_algorithm_refuses_an_object_of_another_type_and_unknown_kids_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let custody = open(dir.path(), [7; 32]);
    custody.ensure_defaults(NOW).unwrap();
    let (_, kao) = wrap_to(&custody, "p256-1");
    assert!(matches!(custody.unwrap("rsa2048-1", &kao), Err(CustodyError::WrongKeyType { .. })));
    // Same type, other key: does not open, and says so without detail.
    let e = custody.unwrap("p384-1", &kao).unwrap_err();
    assert!(matches!(e, CustodyError::Unwrap { .. }), "{e}");
    assert!(matches!(custody.unwrap("p256-9", &kao), Err(CustodyError::UnknownKid(_))));
}

#[test]
fn reopening_with_the_same_kek_unwraps_and_a_wrong_kek_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let kaos: Vec<_> = {
        let custody = open(dir.path(), [7; 32]);
        custody.ensure_defaults(NOW).unwrap();
        ["rsa2048-1", "p256-1", "p384-1"].iter().map(|k| (*k, wrap_to(&custody, k))).collect()
    };
    let before = snapshot(dir.path());
    let e = FileCustody::open(dir.path(), Kek::from_bytes([8; 32])).unwrap_err();
    assert!(matches!(e, CustodyError::Kek(_)), "{e}");
    assert!(e.to_string().contains("does not open this keyring"), "{e}");
    assert_eq!(snapshot(dir.path()), before, "a wrong KEK must not change a byte");
    let custody = open(dir.path(), [7; 32]);
    for (kid, (share, kao)) in &kaos {
        assert_eq!(&custody.unwrap(kid, kao).unwrap(), share);
    }
    assert_eq!(custody.list().len(), 3);
}

#[test]
fn passphrase_kek_round_trips_and_a_raw_kek_is_refused_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let pass = || Kek::from_passphrase(Zeroizing::new("correct horse battery staple".into()));
    let (share, kao) = {
        let (custody, warnings) = FileCustody::open(dir.path(), pass()).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        custody.rotate(Algorithm::EcP256, NOW).unwrap();
        wrap_to(&custody, "p256-1")
    };
    let ring = fs::read_to_string(dir.path().join("keyring.json")).unwrap();
    assert!(ring.contains("\"passphrase\"") && ring.contains("600000"), "{ring}");
    let (custody, _) = FileCustody::open(dir.path(), pass()).unwrap();
    assert_eq!(custody.unwrap("p256-1", &kao).unwrap(), share);
    let wrong = Kek::from_passphrase(Zeroizing::new("wrong".into()));
    assert!(matches!(FileCustody::open(dir.path(), wrong), Err(CustodyError::Kek(_))));
    assert!(matches!(FileCustody::open(dir.path(), Kek::from_bytes([1; 32])), Err(CustodyError::Kek(_))));
}

#[test]
fn zero_config_makes_a_private_kek_file_with_a_warning_and_reuses_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys/kas");
    let no_vars = |_: &str| None;
    let kek = Kek::from_vars(&dir, no_vars).unwrap();
    let kek_path = dir.join(KEK_FILE);
    assert_eq!(fs::metadata(&kek_path).unwrap().permissions().mode() & 0o777, 0o600);
    let (custody, warnings) = FileCustody::open(&dir, kek).unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains(KEK_ENV) && warnings[0].contains(KEK_PASSPHRASE_ENV), "{warnings:?}");
    custody.ensure_defaults(NOW).unwrap();
    let (share, kao) = wrap_to(&custody, "rsa2048-1");
    drop(custody);
    let (custody, _) = FileCustody::open(&dir, Kek::from_vars(&dir, no_vars).unwrap()).unwrap();
    assert_eq!(custody.unwrap("rsa2048-1", &kao).unwrap(), share);
    // The same KEK given through the variable opens it too, without the warning.
    let text = fs::read_to_string(&kek_path).unwrap();
    let kek = Kek::from_vars(&dir, |n| (n == KEK_ENV).then(|| text.clone())).unwrap();
    let (_, warnings) = FileCustody::open(&dir, kek).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    // Without the file and without variables, the keys cannot be opened and no new KEK is made.
    fs::remove_file(&kek_path).unwrap();
    assert!(matches!(Kek::from_vars(&dir, no_vars), Err(CustodyError::Kek(_))));
    assert!(!kek_path.exists());
}

#[test]
fn rotate_moves_current_and_old_versions_keep_unwrapping() {
    let dir = tempfile::tempdir().unwrap();
    let custody = open(dir.path(), [7; 32]);
    custody.ensure_defaults(NOW).unwrap();
    let (share, old) = wrap_to(&custody, "p256-1");
    let info = custody.rotate(Algorithm::EcP256, NOW + 10).unwrap();
    assert_eq!(info.kid, "p256-2");
    assert_eq!(custody.current(Algorithm::EcP256).unwrap().kid, "p256-2");
    assert_eq!(custody.current(Algorithm::EcP384).unwrap().kid, "p384-1");
    assert_eq!(custody.unwrap("p256-1", &old).unwrap(), share);
    assert_unwraps(&custody, "p256-2");
    assert_ne!(custody.public_key("p256-1").unwrap().1, custody.public_key("p256-2").unwrap().1);
}

#[test]
fn shred_is_final_survives_reopen_and_the_kid_is_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let kao = {
        let custody = open(dir.path(), [7; 32]);
        custody.ensure_defaults(NOW).unwrap();
        let kao = assert_unwraps(&custody, "p384-1");
        let info = custody.shred("p384-1", NOW + 5).unwrap();
        assert_eq!((info.state, info.shredded_unix), (KeyState::Shredded, Some(NOW + 5)));
        let e = custody.unwrap("p384-1", &kao).unwrap_err();
        assert!(matches!(e, CustodyError::Shredded { when, .. } if when == NOW + 5), "{e}");
        assert!(matches!(custody.public_key("p384-1"), Err(CustodyError::Shredded { .. })));
        assert!(matches!(custody.shred("p384-1", NOW + 6), Err(CustodyError::Shredded { .. })));
        assert!(!dir.path().join("p384-1.key.enc").exists());
        assert!(custody.current(Algorithm::EcP384).is_none());
        kao
    };
    let (custody, warnings) = FileCustody::open(dir.path(), Kek::from_bytes([7; 32])).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(matches!(custody.unwrap("p384-1", &kao), Err(CustodyError::Shredded { .. })));
    custody.ensure_defaults(NOW + 20).unwrap();
    assert_eq!(custody.current(Algorithm::EcP384).unwrap().kid, "p384-2");
    let kids: Vec<_> = custody.list().into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, ["rsa2048-1", "p256-1", "p384-1", "p384-2"]);
}

#[test]
fn a_crash_between_recording_and_destroying_is_finished_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let custody = open(dir.path(), [7; 32]);
    custody.rotate(Algorithm::EcP256, NOW).unwrap();
    let file = dir.path().join("p256-1.key.enc");
    let saved = fs::read(&file).unwrap();
    custody.shred("p256-1", NOW).unwrap();
    drop(custody);
    // Put the file back as if the process died after writing the keyring.
    fs::write(&file, saved).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    let (_, warnings) = FileCustody::open(dir.path(), Kek::from_bytes([7; 32])).unwrap();
    assert!(warnings.iter().any(|w| w.contains("finished shredding `p256-1`")), "{warnings:?}");
    assert!(!file.exists());
}

#[test]
fn files_readable_by_others_are_refused_with_a_chmod_hint() {
    let dir = tempfile::tempdir().unwrap();
    open(dir.path(), [7; 32]).rotate(Algorithm::EcP256, NOW).unwrap();
    for name in ["p256-1.key.enc", "keyring.json"] {
        let p = dir.path().join(name);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let e = FileCustody::open(dir.path(), Kek::from_bytes([7; 32])).unwrap_err();
        assert!(matches!(e, CustodyError::Storage { .. }) && e.to_string().contains("chmod 600"), "{e}");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
    }
    assert!(FileCustody::open(dir.path(), Kek::from_bytes([7; 32])).is_ok());
}

#[test]
fn key_files_hold_no_plaintext_key() {
    let dir = tempfile::tempdir().unwrap();
    let custody = open(dir.path(), [7; 32]);
    // Import a known key so its DER (and its raw scalar) can be searched for in the file.
    let key = agreement::PrivateKey::generate(&agreement::ECDH_P256).unwrap();
    let der: Pkcs8V1Der<'_> = key.as_der().unwrap();
    let scalar: aws_lc_rs::encoding::EcPrivateKeyBin<'_> =
        aws_lc_rs::encoding::AsBigEndian::as_be_bytes(&key).unwrap();
    let pem = pem("PRIVATE KEY", der.as_ref());
    custody.import_pkcs8(Algorithm::EcP256, &pem, NOW).unwrap();
    let file = fs::read(dir.path().join("p256-1.key.enc")).unwrap();
    assert!(!contains(&file, der.as_ref()), "the PKCS#8 DER is in the file");
    assert!(!contains(&file, scalar.as_ref()), "the private scalar is in the file");
    let ring = fs::read(dir.path().join("keyring.json")).unwrap();
    assert!(!contains(&ring, scalar.as_ref()));
}

#[test]
fn import_adopts_an_existing_key_as_the_next_version() {
    let dir = tempfile::tempdir().unwrap();
    let custody = open(dir.path(), [7; 32]);
    let key = agreement::PrivateKey::generate(&agreement::ECDH_P256).unwrap();
    let der: Pkcs8V1Der<'_> = key.as_der().unwrap();
    let public: aws_lc_rs::encoding::PublicKeyX509Der<'_> =
        key.compute_public_key().unwrap().as_der().unwrap();
    let pem_text = pem("PRIVATE KEY", der.as_ref());
    assert!(matches!(custody.import_pkcs8(Algorithm::EcP384, &pem_text, NOW), Err(CustodyError::Invalid(_))));
    assert!(matches!(
        custody.import_pkcs8(Algorithm::Rsa2048, &pem_text, NOW),
        Err(CustodyError::Invalid(_))
    ));
    custody.ensure_defaults(NOW).unwrap();
    let info = custody.import_pkcs8(Algorithm::EcP256, &pem_text, NOW + 1).unwrap();
    assert_eq!(info.kid, "p256-2");
    assert_eq!(custody.current(Algorithm::EcP256).unwrap().kid, "p256-2");
    assert_eq!(custody.public_key("p256-2").unwrap().1, public.as_ref());
    // Something wrapped with the old key (its public half) before the import unwraps.
    let (share, kao) = wrap_to(&custody, "p256-2");
    drop(custody);
    let custody = open(dir.path(), [7; 32]);
    assert_eq!(custody.unwrap("p256-2", &kao).unwrap(), share);
    // SEC1 `EC PRIVATE KEY` is accepted too.
    let sec1: aws_lc_rs::encoding::EcPrivateKeyRfc5915Der<'_> = key.as_der().unwrap();
    let info = custody.import_pkcs8(Algorithm::EcP256, &pem("EC PRIVATE KEY", sec1.as_ref()), NOW).unwrap();
    assert_eq!(custody.public_key(&info.kid).unwrap().1, public.as_ref());
}

#[test]
fn concurrent_unwraps_share_the_custody() {
    let dir = tempfile::tempdir().unwrap();
    let custody = std::sync::Arc::new(open(dir.path(), [7; 32]));
    custody.ensure_defaults(NOW).unwrap();
    let jobs: Vec<_> =
        ["rsa2048-1", "p256-1", "p384-1"].iter().map(|k| (*k, wrap_to(&*custody, k))).collect();
    let jobs = std::sync::Arc::new(jobs);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (custody, jobs) = (custody.clone(), jobs.clone());
            std::thread::spawn(move || {
                for i in 0..20 {
                    let (kid, (share, kao)) = &jobs[(t + i) % jobs.len()];
                    assert_eq!(&custody.unwrap(kid, kao).unwrap(), share);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<_> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}
