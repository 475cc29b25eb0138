//! Fuzzes the ZTDF reader over arbitrary bytes as a container: ZIP directory, manifest, structure checks,
//! inspection, then verification and decryption attempts with a fixed key. Must never panic, and stays bounded
//! (the reader's limits).
#![no_main]

use std::io::{Cursor, Read};

use libfuzzer_sys::fuzz_target;
use redoubt_ztdf::{PayloadKey, TdfReader, VerifyOptions, inspect};

fuzz_target!(|data: &[u8]| {
    let _ = inspect(Cursor::new(data));
    if let Ok(r) = TdfReader::open(Cursor::new(data)) {
        let _ = r.policy();
        let key = PayloadKey::from_bytes([7u8; 32]);
        if let Ok(d) = r.decryptor(key, &VerifyOptions::default()) {
            let mut out = Vec::new();
            let _ = d.into_reader().take(1 << 20).read_to_end(&mut out);
        }
    }
});
