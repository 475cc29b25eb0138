//! Fuzzes the Open XML SPIF reader (lenient, the more permissive path) and, for anything it accepts, the
//! operations that walk the compiled policy. Property: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redoubt_label::{Label, Mode, Spif};

fuzz_target!(|data: &[u8]| {
    if let Ok(spif) = Spif::from_xml(data, Mode::Lenient) {
        let _ = spif.languages();
        let _ = spif.attribute_definitions("example.int");
        if let Some(class) = spif.classifications().first() {
            let label = Label::new(spif.policy_id(), *class);
            let _ = spif.validate(&label);
            let _ = spif.marking(&label, "");
            let _ = spif.dominant(&[label.clone(), label]);
        }
    }
});
