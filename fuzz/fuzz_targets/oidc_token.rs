//! Fuzzes OIDC bearer-token verification (the bytes of an `Authorization: Bearer` header, untrusted) and JWKS
//! parsing. Properties: never panics; no input verifies against a key set whose private key nobody holds (the
//! fixed JWKS below is a public key only: any accepted token would be a forgery).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redoubt_oidc::{Jwks, Verifier, VerifierConfig};

// The P-256 generator point, whose discrete log (1) is public: a token "signed" for it must still be refused
// unless the signature verifies, so an accepted input would mean a verification bug.
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig","alg":"ES256","x":"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY","y":"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}]}"#;

fn verifier() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let jwks = Jwks::from_json(JWKS.as_bytes()).expect("the fixed JWKS loads");
        Verifier::new(jwks, VerifierConfig::new("https://idp.test", "redoubt"))
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(verifier().verify(text, 1_800_000_000).is_err(), "a token verified against a key nobody signs with");
    }
    let _ = Jwks::from_json(data);
});
