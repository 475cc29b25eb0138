//! Fuzzes the STANAG 4774 label XML reader in both modes. Properties: never panics; a label read strictly
//! writes back to XML that reads strictly to the same label; validation, marking and the ACDF against the NATO
//! SPIF never panic on anything the reader accepts.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use redoubt_label::{Clearance, Label, Levels, Mode, PolicyId, Spif};

fn nato() -> &'static Spif {
    static SPIF: OnceLock<Spif> = OnceLock::new();
    SPIF.get_or_init(|| {
        Spif::from_xml(include_bytes!("../../crates/label/tests/data/nato-4774-policy.xml"), Mode::Strict)
            .expect("the vendored NATO SPIF loads")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(label) = Label::from_xml(data, Mode::Strict) {
        let again = Label::from_xml(label.to_xml().as_bytes(), Mode::Strict).expect("written XML reads back");
        assert_eq!(again, label);
    }
    if let Ok(label) = Label::from_xml(data, Mode::Lenient) {
        let spif = nato();
        let _ = spif.validate(&label);
        let _ = spif.marking(&label, "fr");
        let clearance = Clearance::new(PolicyId { name: "NATO".into(), uri: None }, vec!["SECRET".into()], Levels::Dominance);
        let _ = spif.decide(&label, &clearance);
        let _ = label.to_attribute_fqns("nato.int");
    }
});
