//! Fuzzes what a KAS reads from a rewrap caller (untrusted): the signed request token, its `jwk` header, the
//! request body, and, client side, the rewrap response. Properties: never panics; no input verifies as a
//! request token against the fixed key (an accepted token would be a forgery: nobody signs for it here).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redoubt_kas::{
    ClientKey, RequestBody, RewrapResponse, SignerKey, TokenRules, header_jwk, verify_request_token,
};

// The SPKI of the P-256 generator point (the same fixed key as the oidc_token target): its discrete log (1)
// is public, but a fuzzer that found a token verifying for it would have found a verification bug.
const SPKI: [u8; 91] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42,
    0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0,
    0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e,
    0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6,
    0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
];

fn signer() -> &'static SignerKey {
    static K: OnceLock<SignerKey> = OnceLock::new();
    K.get_or_init(|| SignerKey::from_spki_der(&SPKI).expect("the fixed key is a P-256 public key"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    assert!(
        verify_request_token(text, signer(), &TokenRules::default(), 1_800_000_000).is_err(),
        "a request token verified against a key nobody signs with"
    );
    let _ = header_jwk(text);
    if let Ok(body) = RequestBody::parse(text) {
        let _ = ClientKey::from_pem(&body.client_public_key);
        let _ = body.to_json();
    }
    let _ = RewrapResponse::parse(text);
});
