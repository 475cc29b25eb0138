//! Fuzzes format detection and every label and clearance reader (4774 XML, spiffing XML, ESS BER, compact
//! JSON, STANAG 5636 JSON, json-structured JSON) through a policy set holding the NATO and TLP SPIFs.
//! Properties: never panics; a label read from the compact JSON form writes back to the same JSON value.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redoubt_label::{Label, Mode, PolicySet, Spif};

fn policies() -> &'static PolicySet {
    static SET: OnceLock<PolicySet> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = PolicySet::new();
        for spif in [
            &include_bytes!("../../crates/label/tests/data/nato-4774-policy.xml")[..],
            &include_bytes!("../../crates/label/tests/data/tlp-plus.xml")[..],
            &include_bytes!("../../crates/label/tests/data/tlp.xml")[..],
        ] {
            set.add(Spif::from_xml(spif, Mode::Strict).expect("vendored SPIF loads")).expect("distinct policies");
        }
        set
    })
}

fuzz_target!(|data: &[u8]| {
    let set = policies();
    if let Ok((label, _)) = set.read_label(data, Mode::Lenient) {
        if let Ok(json) = label.to_compact_json() {
            assert_eq!(Label::from_compact_json(&json).expect("compact JSON reads back"), label);
        }
        let _ = label.to_5636_json();
        let _ = label.to_json_structured();
        if let Ok(spif) = set.policy_of(&label.policy) {
            let _ = spif.marking(&label, "");
            let _ = spif.to_spiffing_xml(&label);
            let _ = set.translate(&label, "1.2.826.0.1.6726289.0.2");
        }
    }
    let _ = set.read_clearance(data, Mode::Lenient);
});
