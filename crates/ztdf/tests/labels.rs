//! Label assertions through the label crate: a STANAG 4774 label is written as a `handling` assertion in its
//! XML form and drives the policy attributes; all three label forms found in the world's files are read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)] // test helpers

mod common;

use std::io::Cursor;

use common::{decrypt, encrypt, private, read_data, rsa_config};
use redoubt_label::{Label, Mode, Spif};
use redoubt_ztdf::assertion::label::{LabelForm, label_assertion, label_attributes, read_label};
use redoubt_ztdf::{EncryptConfig, TdfReader, VerifyOptions, inspect, inspect_with_spif};

fn nato_secret() -> Label {
    Label::from_xml(&read_data("label-nato-secret.xml"), Mode::Strict).unwrap()
}

#[test]
fn label_is_written_as_xml_and_drives_the_policy() {
    let label = nato_secret();
    let cfg = EncryptConfig {
        attributes: label_attributes(&label, "nato.int"),
        assertions: vec![label_assertion(&label)],
        ..rsa_config()
    };
    let tdf = encrypt(b"classified", cfg);
    let r = TdfReader::open(Cursor::new(&tdf)).unwrap();
    let attrs: Vec<String> =
        r.policy().unwrap().body.data_attributes.into_iter().map(|a| a.attribute).collect();
    assert!(attrs.contains(&"https://nato.int/attr/classification/value/secret".to_owned()), "{attrs:?}");
    assert!(attrs.contains(&"https://nato.int/attr/releasable-to/value/fra".to_owned()), "{attrs:?}");
    let a = &r.manifest().assertions[0];
    assert_eq!(a.kind, "handling");
    let (form, back) = read_label(&a.statement).unwrap().unwrap();
    assert_eq!(form, LabelForm::Xml4774);
    assert_eq!(back.classification, "SECRET");
    assert_eq!(back.categories, label.categories);
    // The label is bound: decrypt verifies it.
    let u = r.unwrap_payload_key(&[private("kas-rsa.pem")]).unwrap();
    r.verify(&u.key, &VerifyOptions::default()).unwrap();
    assert_eq!(decrypt(&tdf, &[private("kas-rsa.pem")]).unwrap(), b"classified");
}

#[test]
fn stanag_5636_labels_of_the_reference_files_are_read() {
    for name in ["tdf-multikas.tdf", "with-json-object-assertions-java.tdf", "tdf-filewatcher-old.tdf"] {
        let r = TdfReader::open(Cursor::new(read_data(name))).unwrap();
        for a in &r.manifest().assertions {
            let (form, label) = read_label(&a.statement).unwrap_or_else(|e| panic!("{name}: {e}")).unwrap();
            assert_eq!(form, LabelForm::Stanag5636, "{name}");
            assert!(!label.classification.is_empty(), "{name}");
        }
    }
}

#[test]
fn json_structured_4774_form_is_read() {
    let label = nato_secret();
    let json = label.to_json_structured().unwrap();
    let st =
        redoubt_ztdf::Statement::new("json-structured", redoubt_ztdf::assertion::label::SCHEMA_4774, &json);
    let (form, back) = read_label(&st).unwrap().unwrap();
    assert_eq!(form, LabelForm::JsonStructured4774);
    assert_eq!(back.classification, "SECRET");
}

#[test]
fn inspect_shows_the_label_and_its_marking() {
    let label = nato_secret();
    let tdf = encrypt(b"x", EncryptConfig { assertions: vec![label_assertion(&label)], ..rsa_config() });
    let i = inspect(Cursor::new(&tdf)).unwrap();
    assert!(i.assertions[0].label.is_some());
    let spif = Spif::from_xml(&read_data("spif-nato.xml"), Mode::Strict).unwrap();
    let i = inspect_with_spif(Cursor::new(&tdf), Some(&spif)).unwrap();
    let marking = i.assertions[0].marking.clone().unwrap();
    assert!(marking.contains("SECRET"), "{marking}");
}
