//! Interop in: tokens signed by an independent implementation (Python `cryptography`, tests/interop/
//! sign_tokens.py) verify here. Fails, never skips, when python3 or the package is missing
//! (`scripts/install-test-deps` installs them from scripts/test-requirements.txt).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

use std::path::Path;
use std::process::Command;

use redoubt_oidc::{Jwks, Verifier, VerifierConfig};
use serde_json::Value;

const ISSUER: &str = "https://idp.example/realms/interop";
const AUDIENCE: &str = "redoubt";
const NOW: i64 = 1_750_000_000;

#[test]
fn tokens_signed_by_python_cryptography_verify() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sign_tokens.py");
    let out = Command::new("python3")
        .arg(&script)
        .args([NOW.to_string().as_str(), ISSUER, AUDIENCE])
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 is required for the interop tests (scripts/install-test-deps): {e}")
        });
    assert!(out.status.success(), "{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();

    let jwks = Jwks::from_json(doc["jwks"].to_string().as_bytes()).unwrap();
    assert_eq!(jwks.len(), 2);
    let verifier = Verifier::new(jwks, VerifierConfig::new(ISSUER, AUDIENCE));
    for alg in ["rs256", "es256"] {
        let subject = verifier.verify(doc[alg].as_str().unwrap(), NOW).unwrap();
        assert_eq!(subject.name, format!("py-{alg}"));
        assert_eq!(subject.token_id.as_deref(), Some(format!("py-{alg}").as_str()));
        assert_eq!(subject.clearance_level.as_deref(), Some("SECRET"));
        assert_eq!(subject.expires_at, NOW + 300);
    }
    // And a token of one cannot pass for the other.
    let (rs_input, _) = doc["rs256"].as_str().unwrap().rsplit_once('.').unwrap();
    let (_, es_sig) = doc["es256"].as_str().unwrap().rsplit_once('.').unwrap();
    assert!(verifier.verify(&format!("{rs_input}.{es_sig}"), NOW).is_err());
}
