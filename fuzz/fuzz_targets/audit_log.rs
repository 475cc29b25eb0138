//! Arbitrary bytes as an audit log: the verifier and the query must return a report or errors, never panic,
//! and never hold more than one bounded line. The key is the test node key of `crates/audit/tests/data`, so the
//! seeds (logs it signed) reach the signature checks.

#![no_main]

use libfuzzer_sys::fuzz_target;
use redoubt_audit::{Filter, VerifyingKey};

const PUB: &[u8] = include_bytes!("../../crates/audit/tests/data/node.pub");

fuzz_target!(|data: &[u8]| {
    let Ok(key) = VerifyingKey::from_pem(PUB) else { return };
    if let Ok(report) = redoubt_audit::verify(data, &key) {
        let _ = report.is_ok();
    }
    for hit in redoubt_audit::query(data, Filter::default()) {
        let _ = hit;
    }
    let _ = redoubt_audit::parse_head(data);
    let _ = VerifyingKey::from_pem(data);
});
