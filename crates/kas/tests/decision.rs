//! The per-object checks: the label a policy stands for (with the shipped NATO SPIF), dissemination, KAS URLs,
//! and the rule strings the audit log records.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::nato;
use redoubt_kas::{KasError, check_kas_url, dissem_permits, object_label, parse_policy};
use redoubt_label::{Category, CategoryType, Label};
use redoubt_ztdf::Policy;
use redoubt_ztdf::policy::{AttributeValue, PolicyBody};

const NS: &str = "nato.int";

fn policy(fqns: &[String]) -> Policy {
    Policy {
        uuid: "p".into(),
        body: PolicyBody {
            data_attributes: fqns.iter().map(|f| AttributeValue { attribute: f.clone() }).collect(),
            dissem: vec![],
        },
    }
}

#[test]
fn nato_secret_releasable_to_maps_back_to_its_label() {
    let spif = nato();
    let mut label = Label::new(spif.policy_id(), "SECRET");
    label.categories.push(Category {
        tag_name: "Releasable To".into(),
        kind: CategoryType::Permissive,
        uri: None,
        values: vec!["FRA".into(), "ITA".into()],
    });
    let fqns = label.to_attribute_fqns(NS);
    assert!(fqns.contains(&"https://nato.int/attr/releasable-to/value/fra".to_owned()), "{fqns:?}");
    let back = object_label(&policy(&fqns), NS, &spif).unwrap();
    assert_eq!(back.classification, "SECRET");
    assert_eq!(spif.marking(&back, "").unwrap(), spif.marking(&label, "").unwrap());
    // Namespaces compare case-insensitively, as FQNs do.
    let upper: Vec<String> = fqns.iter().map(|f| f.replace("nato.int", "NATO.INT")).collect();
    assert!(object_label(&policy(&upper), NS, &spif).is_ok());
}

#[test]
fn no_attributes_is_refused() {
    let err = object_label(&policy(&[]), NS, &nato()).unwrap_err();
    assert_eq!(err, KasError::NoAttributes);
    assert_eq!(err.rule(), "kas-no-attributes");
}

#[test]
fn a_foreign_namespace_is_refused() {
    let fqns = vec![
        "https://nato.int/attr/classification/value/secret".to_owned(),
        "https://example.com/attr/classification/value/secret".to_owned(),
    ];
    let err = object_label(&policy(&fqns), NS, &nato()).unwrap_err();
    assert!(matches!(err, KasError::ForeignNamespace { .. }), "{err}");
    assert_eq!(err.rule(), "kas-foreign-namespace");
    // A namespace that merely starts like ours is foreign too.
    let err = object_label(
        &policy(&["https://nato.int.evil/attr/classification/value/secret".to_owned()]),
        NS,
        &nato(),
    );
    assert!(matches!(err, Err(KasError::ForeignNamespace { .. })));
}

#[test]
fn unknown_attributes_deny() {
    for fqns in [
        vec!["https://nato.int/attr/classification/value/ultra-secret"],
        vec![
            "https://nato.int/attr/classification/value/secret",
            "https://nato.int/attr/releasable-to/value/atlantis",
        ],
        vec![
            "https://nato.int/attr/no-such-tag/value/x",
            "https://nato.int/attr/classification/value/secret",
        ],
        vec!["https://nato.int/attr/releasable-to/value/fra"],
        vec!["https://nato.int/attr/classification"],
    ] {
        let fqns: Vec<String> = fqns.into_iter().map(str::to_owned).collect();
        let err = object_label(&policy(&fqns), NS, &nato()).unwrap_err();
        assert_eq!(err.rule(), "kas-unknown-attribute", "{fqns:?}: {err}");
    }
}

#[test]
fn dissem() {
    assert!(dissem_permits(&[], &["alice"]));
    assert!(dissem_permits(&[], &[]));
    let list = vec!["Alice@Example.org".to_owned(), "bob".to_owned()];
    assert!(dissem_permits(&list, &["carol", "alice@example.org"]));
    assert!(dissem_permits(&list, &["BOB"]));
    assert!(!dissem_permits(&list, &["carol"]));
    assert!(!dissem_permits(&list, &[]));
    assert_eq!(KasError::Dissem.rule(), "kas-dissem");
}

#[test]
fn kas_urls() {
    let ours = vec!["https://node.example:8443/kas".to_owned(), "https://kas.example".to_owned()];
    for ok in [
        "https://node.example:8443/kas",
        "https://node.example:8443/kas/",
        "https://node.example:8443",
        "https://node.example:8443/",
        "HTTPS://NODE.EXAMPLE:8443/kas",
        "https://kas.example:443/kas",
        "https://kas.example/",
    ] {
        assert!(check_kas_url(ok, &ours).is_ok(), "{ok}");
    }
    for bad in [
        "https://node.example/kas",
        "http://node.example:8443/kas",
        "https://other.example:8443/kas",
        "https://node.example:8443/KAS2",
        "https://node.example:8443/other/kas",
        "https://node.example:8443@evil.example/kas",
        "https://node.example:8443/kas?x=1",
        "node.example:8443/kas",
        "",
    ] {
        let err = check_kas_url(bad, &ours).unwrap_err();
        assert_eq!(err.rule(), "kas-foreign-kas", "{bad}");
    }
}

#[test]
fn a_policy_that_is_not_base64_json_is_malformed() {
    assert_eq!(parse_policy("p", "!!").unwrap_err().rule(), "kas-policy-malformed");
    assert!(parse_policy("p", &policy(&[]).to_base64().unwrap()).is_ok());
}
