//! The PKCS#11 backend against SoftHSM2: keys generated in the token, unwrapping through it, key objects that
//! cannot be read, rotation, shredding, reopening, concurrency. Each test makes its own token (unique label) with
//! `softhsm2-util` under SoftHSM's default configuration and deletes it at the end. SoftHSM missing is a
//! failure, not a skip: run `scripts/install-test-deps`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};
use cryptoki::session::Session;
use redoubt_custody::{Algorithm, CustodyError, KeyCustody, KeyState, Pkcs11Custody};
use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::{KasTarget, KeyShare, SystemRandomSource, wrap_key_access};
use zeroize::Zeroizing;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "redoubt-user-pin";
const NOW: i64 = 1_700_000_000;

/// Tests that use SoftHSM run one at a time, across processes: SoftHSM rescans the token folder on every slot
/// listing, and a token another process is deleting at that moment makes the listing fail.
const SOFTHSM_LOCK: &str = "/tmp/redoubt-softhsm-tests.lock";

/// A SoftHSM token that exists for one test, which holds the SoftHSM lock meanwhile.
struct Token {
    label: String,
    _lock: std::fs::File,
}

impl Token {
    fn new() -> Token {
        let lock =
            std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(SOFTHSM_LOCK).unwrap();
        lock.lock().unwrap();
        assert!(
            Path::new(MODULE).exists(),
            "SoftHSM2 is not installed ({MODULE} is missing): run `scripts/install-test-deps`"
        );
        let mut rand = [0u8; 6];
        aws_lc_rs::rand::fill(&mut rand).unwrap();
        let label = format!("redoubt-test-{}", hex(&rand));
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", &label, "--pin", PIN, "--so-pin", "redoubt-so-pin"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run softhsm2-util ({e}): run `scripts/install-test-deps`"));
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Token { label, _lock: lock }
    }

    fn open(&self, dir: &Path) -> Pkcs11Custody {
        Pkcs11Custody::open(Path::new(MODULE), &self.label, Zeroizing::new(PIN.into()), dir).unwrap()
    }

    /// A session of the test's own on the token, logged in (the login is shared with the custody's).
    fn session(&self) -> Session {
        let ctx = Pkcs11::new(MODULE).unwrap();
        let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
        let slot = ctx
            .get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|s| ctx.get_token_info(*s).is_ok_and(|t| t.label().trim_end() == self.label))
            .unwrap();
        let session = ctx.open_rw_session(slot).unwrap();
        let _ = session.login(cryptoki::session::UserType::User, Some(&cryptoki::types::AuthPin::from(PIN)));
        session
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        let _ = Command::new("softhsm2-util").args(["--delete-token", "--token", &self.label]).output();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn wrap_to(custody: &dyn KeyCustody, kid: &str) -> (KeyShare, KeyAccessObject) {
    let rng = SystemRandomSource::new();
    let share = KeyShare::random(&rng).unwrap();
    let (key, _) = custody.public_key(kid).unwrap();
    let target = KasTarget { url: "https://kas.test".into(), key, kid: Some(kid.into()), sid: None };
    (share.clone(), wrap_key_access(&share, &target, None, "cG9saWN5", None, &rng).unwrap())
}

fn objects(session: &Session, kid: &str) -> usize {
    [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY]
        .into_iter()
        .map(|c| {
            session
                .find_objects(&[Attribute::Class(c), Attribute::Id(kid.as_bytes().to_vec())])
                .unwrap()
                .len()
        })
        .sum()
}

const KIDS: [&str; 3] = ["rsa2048-1", "p256-1", "p384-1"];

#[test]
fn defaults_are_made_in_the_token_and_unwrap_through_it() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let custody = token.open(dir.path());
    assert_eq!(custody.backend(), "pkcs11");
    custody.ensure_defaults(NOW).unwrap();
    let list = custody.list();
    let got: Vec<_> = list.iter().map(|k| (k.kid.as_str(), k.algorithm)).collect();
    assert_eq!(
        got,
        [("rsa2048-1", Algorithm::Rsa2048), ("p256-1", Algorithm::EcP256), ("p384-1", Algorithm::EcP384)]
    );
    for kid in KIDS {
        let (share, kao) = wrap_to(&custody, kid);
        assert_eq!(custody.unwrap(kid, &kao).unwrap(), share, "{kid}");
    }
    // A share wrapped to another key of the same type does not open, without detail.
    let (_, kao) = wrap_to(&custody, "p256-1");
    let mut tampered = kao.clone();
    tampered.wrapped_key = wrap_to(&custody, "p256-1").1.wrapped_key;
    assert!(matches!(custody.unwrap("p256-1", &tampered), Err(CustodyError::Unwrap { .. })));
    let (_, rsa) = wrap_to(&custody, "rsa2048-1");
    let mut broken = rsa.clone();
    broken.wrapped_key = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([0x42u8; 256])
    };
    assert!(matches!(custody.unwrap("rsa2048-1", &broken), Err(CustodyError::Unwrap { .. })));
    assert!(matches!(custody.unwrap("p384-1", &kao), Err(CustodyError::Unwrap { .. })));
    assert!(matches!(custody.unwrap("rsa2048-1", &kao), Err(CustodyError::WrongKeyType { .. })));
}

#[test]
fn private_keys_are_sensitive_and_cannot_be_read() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let custody = token.open(dir.path());
    custody.ensure_defaults(NOW).unwrap();
    let session = token.session();
    for kid in KIDS {
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Id(kid.as_bytes().to_vec()),
            ])
            .unwrap();
        assert_eq!(found.len(), 1, "{kid}");
        let attrs = session
            .get_attributes(
                found[0],
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::Token,
                    AttributeType::Label,
                ],
            )
            .unwrap();
        assert!(attrs.contains(&Attribute::Sensitive(true)), "{kid}: {attrs:?}");
        assert!(attrs.contains(&Attribute::Extractable(false)), "{kid}: {attrs:?}");
        assert!(attrs.contains(&Attribute::Token(true)), "{kid}: {attrs:?}");
        assert!(attrs.contains(&Attribute::Label(kid.as_bytes().to_vec())), "{kid}: {attrs:?}");
        let secret =
            if kid.starts_with("rsa") { AttributeType::PrivateExponent } else { AttributeType::Value };
        let info = session.get_attribute_info(found[0], &[secret]).unwrap();
        assert!(matches!(info[0], AttributeInfo::Sensitive), "{kid}: {info:?}");
        let read = session.get_attributes(found[0], &[secret]).unwrap();
        assert!(read.is_empty(), "{kid}: the private value was returned");
    }
}

#[test]
fn rotate_keeps_old_versions_unwrapping_and_moves_current() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let custody = token.open(dir.path());
    custody.ensure_defaults(NOW).unwrap();
    let old: Vec<_> = KIDS.iter().map(|k| (*k, wrap_to(&custody, k))).collect();
    for alg in Algorithm::ALL {
        let info = custody.rotate(alg, NOW + 1).unwrap();
        assert_eq!(info.kid, alg.kid(2));
        assert_eq!(custody.current(alg).unwrap().kid, alg.kid(2));
        let (share, kao) = wrap_to(&custody, &info.kid);
        assert_eq!(custody.unwrap(&info.kid, &kao).unwrap(), share);
    }
    for (kid, (share, kao)) in &old {
        assert_eq!(&custody.unwrap(kid, kao).unwrap(), share, "{kid}");
    }
}

#[test]
fn shred_destroys_the_objects_and_survives_reopen() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let (kao, kept) = {
        let custody = token.open(dir.path());
        custody.ensure_defaults(NOW).unwrap();
        let (_, kao) = wrap_to(&custody, "p256-1");
        let kept = wrap_to(&custody, "rsa2048-1");
        let session = token.session();
        assert_eq!(objects(&session, "p256-1"), 2);
        let info = custody.shred("p256-1", NOW + 3).unwrap();
        assert_eq!(info.state, KeyState::Shredded);
        assert_eq!(objects(&session, "p256-1"), 0, "both halves are gone from the token");
        let e = custody.unwrap("p256-1", &kao).unwrap_err();
        assert!(matches!(e, CustodyError::Shredded { when, .. } if when == NOW + 3), "{e}");
        (kao, kept)
    };
    let custody = token.open(dir.path());
    assert!(matches!(custody.unwrap("p256-1", &kao), Err(CustodyError::Shredded { .. })));
    assert_eq!(custody.unwrap("rsa2048-1", &kept.1).unwrap(), kept.0);
    custody.ensure_defaults(NOW + 4).unwrap();
    assert_eq!(custody.current(Algorithm::EcP256).unwrap().kid, "p256-2", "the kid is not reused");
}

#[test]
fn a_reopened_custody_sees_the_same_keys() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let (list, wrapped, spkis) = {
        let custody = token.open(dir.path());
        custody.ensure_defaults(NOW).unwrap();
        let wrapped: Vec<_> = KIDS.iter().map(|k| wrap_to(&custody, k)).collect();
        let spkis: Vec<_> = KIDS.iter().map(|k| custody.public_key(k).unwrap().1).collect();
        (custody.list(), wrapped, spkis)
    };
    let custody = token.open(dir.path());
    assert_eq!(custody.list(), list);
    for ((kid, (share, kao)), spki) in KIDS.iter().zip(&wrapped).zip(&spkis) {
        assert_eq!(&custody.public_key(kid).unwrap().1, spki);
        assert_eq!(&custody.unwrap(kid, kao).unwrap(), share);
    }
    // The keyring is bound to its token; a wrong PIN is refused.
    let e = Pkcs11Custody::open(
        Path::new(MODULE),
        "redoubt-no-such-token",
        Zeroizing::new(PIN.into()),
        dir.path(),
    )
    .unwrap_err();
    assert!(matches!(e, CustodyError::Pkcs11 { op: "find token", .. }), "{e}");
}

#[test]
fn a_wrong_pin_is_refused_without_echoing_it() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let e = Pkcs11Custody::open(
        Path::new(MODULE),
        &token.label,
        Zeroizing::new("not-the-pin".into()),
        dir.path(),
    )
    .unwrap_err();
    assert!(matches!(e, CustodyError::Pkcs11 { op: "login", .. }), "{e}");
    assert!(!e.to_string().contains("not-the-pin") && !format!("{e:?}").contains("not-the-pin"));
}

#[test]
fn eight_threads_unwrap_concurrently() {
    let token = Token::new();
    let dir = tempfile::tempdir().unwrap();
    let custody = Arc::new(token.open(dir.path()));
    custody.ensure_defaults(NOW).unwrap();
    let jobs: Arc<Vec<_>> = Arc::new(KIDS.iter().map(|k| (*k, wrap_to(&*custody, k))).collect());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (custody, jobs) = (custody.clone(), jobs.clone());
            std::thread::spawn(move || {
                for i in 0..15 {
                    let (kid, (share, kao)) = &jobs[(t + i) % jobs.len()];
                    assert_eq!(&custody.unwrap(kid, kao).unwrap(), share, "{kid}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
