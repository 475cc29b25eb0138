//! Behaviour tests over the NATO SPIF: the two labels of specs/labels.md, strict and lenient reading, each ACDF
//! rule (each denial names its rule), validation reporting every violation, round trips through every form, the
//! attribute FQN mapping, dominance, and the parser bounds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "test helpers may fail loudly and report"
)]

use std::path::Path;

use redoubt_label::{
    AcdfRule, Category, CategoryType, Clearance, Decision, Error, Label, LabelKind, Levels, Mode, PolicyId,
    PolicySet, Spif,
};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

fn nato() -> Spif {
    Spif::from_xml(&data("nato-4774-policy.xml"), Mode::Strict).unwrap()
}

const NATO_URI: &str = "urn:oid:1.3.26.1.3.1";

/// NATO SECRET releasable to FRA and ITA (specs/labels.md).
const SECRET_REL_FRA_ITA: &str = r#"<slab:originatorConfidentialityLabel xmlns:slab="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"
    ReviewDateTime="2030-01-01T00:00:00Z">
  <slab:ConfidentialityInformation>
    <slab:PolicyIdentifier URI="urn:oid:1.3.26.1.3.1">NATO</slab:PolicyIdentifier>
    <slab:Classification>SECRET</slab:Classification>
    <slab:Category TagName="Context" Type="PERMISSIVE" URI="urn:oid:1.3.26.1.4.4">
      <slab:GenericValue>NATO</slab:GenericValue><slab:GenericValue>Releasable</slab:GenericValue></slab:Category>
    <slab:Category TagName="Releasable To" Type="PERMISSIVE" URI="urn:oid:1.3.26.1.4.2">
      <slab:GenericValue>NATO</slab:GenericValue><slab:GenericValue>FRA</slab:GenericValue>
      <slab:GenericValue>ITA</slab:GenericValue></slab:Category>
  </slab:ConfidentialityInformation>
  <slab:OriginatorID IDType="rfc822Name">originator@example.int</slab:OriginatorID>
  <slab:CreationDateTime>2025-01-01T09:00:00Z</slab:CreationDateTime>
</slab:originatorConfidentialityLabel>"#;

fn cat(tag: &str, kind: CategoryType, values: &[&str]) -> Category {
    Category { tag_name: tag.into(), kind, uri: None, values: values.iter().map(|v| v.to_string()).collect() }
}

fn nato_label(class: &str, cats: Vec<Category>) -> Label {
    let mut l = Label::new(PolicyId { name: "NATO".into(), uri: Some(NATO_URI.into()) }, class);
    l.categories = cats;
    l.creation_date_time = Some("2025-01-01T09:00:00Z".into());
    l.review_date_time = Some("2030-01-01T00:00:00Z".into());
    l
}

fn clearance(classes: &[&str], cats: Vec<Category>) -> Clearance {
    let mut c = Clearance::new(
        PolicyId { name: "NATO".into(), uri: None },
        classes.iter().map(|c| c.to_string()).collect(),
        Levels::Listed,
    );
    c.categories = cats;
    c
}

/// A French national cleared NATO SECRET, holding the NATO context and releasability to France.
fn fra_secret() -> Clearance {
    clearance(
        &["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"],
        vec![
            cat("Context", CategoryType::Permissive, &["Releasable"]),
            cat("Releasable To", CategoryType::Permissive, &["FRA"]),
        ],
    )
}

#[test]
fn spec_label_secret_releasable_to_fra_ita() {
    let spif = nato();
    let label = Label::from_xml(SECRET_REL_FRA_ITA.as_bytes(), Mode::Strict).unwrap();
    assert_eq!(label.kind, LabelKind::Originator);
    assert_eq!(label.policy.oid(), Some("1.3.26.1.3.1"));
    assert_eq!(label.classification, "SECRET");
    assert!(spif.validate(&label).is_empty(), "{:?}", spif.validate(&label));
    assert_eq!(spif.marking(&label, "").unwrap(), "NATO SECRET Releasable to France, Italy");
    assert_eq!(spif.marking(&label, "fr").unwrap(), "NATO SECRET Communicable a France, Italie");
    assert!(spif.decide(&label, &fra_secret()).is_permit());
    // Round trip through the writer is exact.
    assert_eq!(Label::from_xml(label.to_xml().as_bytes(), Mode::Strict).unwrap(), label);
}

#[test]
fn spec_label_context_nato_only_fra_ita() {
    // "to restrict to France and Italy use Context {NATO} plus Only {FRA, ITA}".
    let spif = nato();
    let label = nato_label(
        "SECRET",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Only", CategoryType::Permissive, &["FRA", "ITA"]),
        ],
    );
    assert!(spif.validate(&label).is_empty());
    assert_eq!(spif.marking(&label, "").unwrap(), "NATO SECRET France, Italy ONLY");
    let deu = clearance(
        &["SECRET"],
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Only", CategoryType::Permissive, &["DEU"]),
        ],
    );
    let fra = clearance(
        &["SECRET"],
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Only", CategoryType::Permissive, &["FRA"]),
        ],
    );
    assert!(spif.decide(&label, &fra).is_permit());
    let Decision::Deny(d) = spif.decide(&label, &deu) else { panic!("DEU must be denied") };
    assert_eq!(d.rule(), AcdfRule::Permissive);
    assert_eq!(
        spif.explain(&d),
        "rule 3 (permissive category): the clearance holds none of `Only`: FRA, ITA"
    );
}

#[test]
fn acdf_each_rule_denies_and_names_itself() {
    let spif = nato();
    let label = nato_label(
        "SECRET",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Additional Sensitivity", CategoryType::Restrictive, &["ATOMAL"]),
            cat("Administrative", CategoryType::Informative, &["STAFF"]),
        ],
    );
    assert!(spif.validate(&label).is_empty(), "{:?}", spif.validate(&label));
    let full = clearance(
        &["SECRET"],
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Additional Sensitivity", CategoryType::Restrictive, &["ATOMAL"]),
        ],
    );
    // Rule 5: the informative category is ignored (the clearance does not hold STAFF).
    assert_eq!(spif.decide(&label, &full), Decision::Permit);

    let deny = |c: &Clearance| match spif.decide(&label, c) {
        Decision::Deny(d) => (d.rule(), spif.explain(&d)),
        Decision::Permit => panic!("expected a denial"),
    };
    // Rule 1: another policy.
    let mut other = full.clone();
    other.policy = PolicyId { name: "UK".into(), uri: None };
    assert_eq!(deny(&other).0, AcdfRule::Policy);
    assert!(deny(&other).1.starts_with("rule 1 (policy)"));
    // Rule 2: classification not listed (a listed clearance does not dominate).
    let mut low = full.clone();
    low.classifications = vec!["CONFIDENTIAL".into(), "TOP SECRET".into()];
    assert_eq!(
        deny(&low),
        (
            AcdfRule::Classification,
            "rule 2 (classification): the clearance does not cover classification `SECRET`".into()
        )
    );
    // ... but a dominance clearance for TOP SECRET covers SECRET.
    low.levels = Levels::Dominance;
    assert!(spif.decide(&label, &low).is_permit());
    // Rule 3: no value of a permissive tag held.
    let mut no_ctx = full.clone();
    no_ctx.categories.retain(|c| c.tag_name != "Context");
    assert_eq!(
        deny(&no_ctx),
        (
            AcdfRule::Permissive,
            "rule 3 (permissive category): the clearance holds none of `Context`: NATO".into()
        )
    );
    // Rule 4: a restrictive value not held.
    let mut no_atomal = full.clone();
    no_atomal.categories.retain(|c| c.tag_name != "Additional Sensitivity");
    assert_eq!(
        deny(&no_atomal),
        (
            AcdfRule::Restrictive,
            "rule 4 (restrictive category): the clearance lacks `ATOMAL` of `Additional Sensitivity`".into()
        )
    );
    // Unresolvable label: fail closed.
    let bogus = nato_label("SECRET", vec![cat("Context", CategoryType::Permissive, &["MARS"])]);
    assert!(!spif.decide(&bogus, &full).is_permit());
}

#[test]
fn bound_decision_refuses_values_bound_by_another_spif() {
    let (a, b) = (nato(), nato());
    let label = nato_label("UNCLASSIFIED", vec![cat("Context", CategoryType::Permissive, &["NATO"])]);
    let c = clearance(&["UNCLASSIFIED"], vec![cat("Context", CategoryType::Permissive, &["NATO"])]);
    let (bl, bc) = (a.bind_label(&label).unwrap(), a.bind_clearance(&c).unwrap());
    assert!(a.decide_bound(&bl, &bc).is_permit());
    assert!(matches!(b.decide_bound(&bl, &bc), Decision::Deny(d) if d.rule() == AcdfRule::Policy));
}

#[test]
fn validation_reports_every_violation() {
    let spif = nato();
    let label = nato_label(
        "UNCLASSIFIED",
        vec![
            cat("Additional Sensitivity", CategoryType::Restrictive, &["ATOMAL", "CRYPTO"]),
            cat("Releasable To", CategoryType::Permissive, &["XXX"]),
            cat("Nonsense", CategoryType::Permissive, &["A"]),
        ],
    );
    let v: Vec<String> = spif.validate(&label).iter().map(ToString::to_string).collect();
    assert_eq!(
        v,
        vec![
            "unknown permissive value `XXX` in tag set `Releasable To`",
            "unknown category tag set `Nonsense`",
            "`Additional Sensitivity/ATOMAL` is not allowed at classification `UNCLASSIFIED`",
            "`Additional Sensitivity/CRYPTO` is not allowed at classification `UNCLASSIFIED`",
        ]
    );
}

#[test]
fn values_are_case_insensitive() {
    // The SPIF's own embedded example label writes `nato` and `unclassified`.
    let spif = nato();
    let l = Label::new(PolicyId { name: "nato".into(), uri: None }, "unclassified");
    assert!(spif.validate(&l).is_empty());
    assert_eq!(spif.marking(&l, "").unwrap(), "NATO UNCLASSIFIED");
}

#[test]
fn strict_refuses_sloppy_labels_and_names_the_place() {
    let sloppy = data("nato-4774-17-1.nato");
    let err = Label::from_xml(&sloppy, Mode::Strict).unwrap_err();
    assert_eq!(err.to_string(), "3:1: element `PolicyIdentifier`: attribute `URL` should be `URI`");
    let (label, repairs) = Label::from_xml_with_repairs(&sloppy, Mode::Lenient).unwrap();
    let repairs: Vec<String> = repairs.iter().map(ToString::to_string).collect();
    assert_eq!(
        repairs,
        vec![
            "3:1: attribute `URL` should be `URI`; read as such",
            "1:1: missing `CreationDateTime`; left unset",
            "1:1: missing attribute `ReviewDateTime` (required when there is no `SuccessionHandling`); left unset",
        ]
    );
    assert_eq!(label.policy.uri.as_deref(), Some(NATO_URI));
}

#[test]
fn lenient_repairs_namespace_and_case_defects() {
    let xml = br#"<originatorConfidentialityLabel ReviewDateTime="2030-01-01T00:00:00Z">
<ConfidentialityInformation><PolicyIdentifier>NATO</PolicyIdentifier><Classification>SECRET</Classification>
<Category tagName="Context" type="permissive"><GenericValue>NATO</GenericValue></Category></ConfidentialityInformation>
<CreationDataTime>2025-01-01T09:00:00Z</CreationDataTime></originatorConfidentialityLabel>"#;
    let err = Label::from_xml(xml, Mode::Strict).unwrap_err();
    assert!(err.to_string().contains("has no namespace"), "{err}");
    let (label, repairs) = Label::from_xml_with_repairs(xml, Mode::Lenient).unwrap();
    assert_eq!(label.categories, vec![cat("Context", CategoryType::Permissive, &["NATO"])]);
    assert_eq!(label.creation_date_time.as_deref(), Some("2025-01-01T09:00:00Z"));
    let text: Vec<String> = repairs.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|r| r.contains("`tagName` should be `TagName`")), "{text:?}");
    assert!(text.iter().any(|r| r.contains("`CreationDataTime` should be `CreationDateTime`")), "{text:?}");
    assert!(text.iter().any(|r| r.contains("`permissive` should be `PERMISSIVE`")), "{text:?}");
}

#[test]
fn malformed_xml_names_the_position() {
    let err = Label::from_xml(b"<a>\n  <b></a>", Mode::Strict).unwrap_err();
    assert!(matches!(err, Error::Xml { .. }));
    assert!(err.to_string().starts_with("2:"), "{err}");
    let err = Label::from_xml(b"<!DOCTYPE x [<!ENTITY a \"b\">]><x/>", Mode::Lenient).unwrap_err();
    assert!(err.to_string().contains("DTD is not allowed"), "{err}");
}

#[test]
fn bounds_are_enforced() {
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert!(matches!(
        Label::from_xml(deep.as_bytes(), Mode::Lenient),
        Err(Error::Limit { what: "element depth", .. })
    ));
    let big = vec![b' '; redoubt_label::limits::MAX_LABEL_BYTES + 1];
    assert!(matches!(Label::from_xml(&big, Mode::Lenient), Err(Error::TooLarge { .. })));
    let mut many = String::from(
        r#"<originatorConfidentialityLabel xmlns="urn:nato:stanag:4774:confidentialitymetadatalabel:1:0"><ConfidentialityInformation><PolicyIdentifier>NATO</PolicyIdentifier><Classification>SECRET</Classification>"#,
    );
    for _ in 0..300 {
        many.push_str(
            r#"<Category TagName="Only" Type="PERMISSIVE"><GenericValue>FRA</GenericValue></Category>"#,
        );
    }
    many.push_str("</ConfidentialityInformation></originatorConfidentialityLabel>");
    assert!(matches!(
        Label::from_xml(many.as_bytes(), Mode::Lenient),
        Err(Error::Limit { what: "category count", .. })
    ));
    assert!(matches!(Label::from_xml(b"   ", Mode::Strict), Err(Error::Empty)));
}

#[test]
fn every_form_round_trips() {
    let spif = nato();
    let label = Label::from_xml(SECRET_REL_FRA_ITA.as_bytes(), Mode::Strict).unwrap();
    let mut set = PolicySet::new();
    set.add(spif.clone()).unwrap();

    let compact = label.to_compact_json().unwrap();
    assert_eq!(Label::from_compact_json(&compact).unwrap(), label);
    assert_eq!(set.read_label(compact.as_bytes(), Mode::Strict).unwrap().0, label);

    let j5636 = label.to_5636_json().unwrap();
    assert!(
        j5636.starts_with(r#"{"ocl":{"pol":"NATO","cls":"SECRET","catl":[{"type":"P","name":"Context""#),
        "{j5636}"
    );
    let back = Label::from_5636_json(&j5636).unwrap();
    assert_eq!((back.classification.as_str(), &back.categories.len()), ("SECRET", &2));
    assert!(spif.decide(&back, &fra_secret()).is_permit());

    let js = label.to_json_structured().unwrap();
    let back = Label::from_json_structured(&js).unwrap();
    assert_eq!(
        back.categories,
        label.categories.iter().map(|c| Category { uri: None, ..c.clone() }).collect::<Vec<_>>()
    );

    let spiffing = spif.to_spiffing_xml(&label).unwrap();
    let back = set.read_label(spiffing.as_bytes(), Mode::Strict).unwrap().0;
    assert_eq!(spif.marking(&back, "").unwrap(), spif.marking(&label, "").unwrap());

    let clr = fra_secret();
    assert_eq!(Clearance::from_compact_json(&clr.to_compact_json().unwrap()).unwrap(), clr);
    assert_eq!(Clearance::from_xml(clr.to_xml().as_bytes(), Mode::Strict).unwrap(), clr);
}

#[test]
fn json_structured_reads_the_ztdf_spec_example() {
    let example = r#"{"Xmlns":"urn:nato:stanag:4774:confidentialitymetadatalabel:1:0","CreationTime":"2015-08-29T16:15:00Z",
      "ConfidentialityInformation":{"PolicyIdentifier":"NATO","Classification":"SECRET",
      "Category":{"Type":"PERMISSIVE","TagName":"Releasable to","GenericValues":["SWE","FIN","FRA"]}}}"#;
    let label = Label::from_json_structured(example).unwrap();
    assert_eq!(
        label.categories,
        vec![cat("Releasable to", CategoryType::Permissive, &["SWE", "FIN", "FRA"])]
    );
    assert_eq!(nato().marking(&label, "").unwrap(), "NATO SECRET Releasable to Finland, France, Sweden");
}

#[test]
fn compact_json_refuses_unknown_fields_and_versions() {
    assert!(Label::from_compact_json(r#"{"v":1,"pol":"NATO","cls":"SECRET","cat":[]}"#).is_err());
    let err = Label::from_compact_json(r#"{"v":2,"pol":"NATO","cls":"SECRET"}"#).unwrap_err();
    assert!(err.to_string().contains("version 2 is not supported"), "{err}");
}

#[test]
fn attribute_fqns_both_ways() {
    let spif = nato();
    let label = Label::from_xml(SECRET_REL_FRA_ITA.as_bytes(), Mode::Strict).unwrap();
    let fqns = label.to_attribute_fqns("nato.int");
    assert_eq!(
        fqns,
        vec![
            "https://nato.int/attr/classification/value/secret",
            "https://nato.int/attr/context/value/nato",
            "https://nato.int/attr/context/value/releasable",
            "https://nato.int/attr/releasable-to/value/nato",
            "https://nato.int/attr/releasable-to/value/fra",
            "https://nato.int/attr/releasable-to/value/ita",
        ]
    );
    let back = Label::from_attribute_fqns(&fqns, "nato.int", &spif).unwrap();
    assert_eq!(spif.marking(&back, "").unwrap(), spif.marking(&label, "").unwrap());
    assert_eq!(spif.decide(&back, &fra_secret()), spif.decide(&label, &fra_secret()));
    let err = Label::from_attribute_fqns(&["https://nato.int/attr/context/value/nato"], "nato.int", &spif)
        .unwrap_err();
    assert!(err.to_string().contains("no classification"), "{err}");
    let defs = spif.attribute_definitions("nato.int");
    assert_eq!(defs[0].rule, "HIERARCHY");
    assert_eq!(defs[0].values, vec!["top-secret", "secret", "confidential", "restricted", "unclassified"]);
}

#[test]
fn dominant_label() {
    let spif = nato();
    let a = nato_label(
        "CONFIDENTIAL",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO", "Releasable"]),
            cat("Releasable To", CategoryType::Permissive, &["NATO", "FRA", "ITA"]),
        ],
    );
    let b = nato_label(
        "SECRET",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO", "Releasable"]),
            cat("Releasable To", CategoryType::Permissive, &["NATO", "FRA"]),
            cat("Additional Sensitivity", CategoryType::Restrictive, &["BOHEMIA"]),
        ],
    );
    let d = spif.dominant(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(spif.marking(&d, "").unwrap(), "NATO SECRET BOHEMIA Releasable to France");
    // A permissive category that only one part carries is kept, not dropped (dropping `Only` would widen access).
    let c = nato_label(
        "SECRET",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Only", CategoryType::Permissive, &["FRA"]),
        ],
    );
    let e = nato_label("RESTRICTED", vec![cat("Context", CategoryType::Permissive, &["NATO"])]);
    let d = spif.dominant(&[c, e]).unwrap();
    assert_eq!(d.category("Only", CategoryType::Permissive).unwrap().values, vec!["FRA"]);
    // An empty intersection cannot be expressed: error, never a silent drop.
    let f = nato_label(
        "SECRET",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Only", CategoryType::Permissive, &["ITA"]),
        ],
    );
    let g = nato_label(
        "SECRET",
        vec![
            cat("Context", CategoryType::Permissive, &["NATO"]),
            cat("Only", CategoryType::Permissive, &["FRA"]),
        ],
    );
    assert!(matches!(spif.dominant(&[f, g]), Err(Error::NoDominant(_))));
}

#[test]
fn translation_needs_an_equivalence() {
    let mut set = PolicySet::new();
    set.add(nato()).unwrap();
    set.add(Spif::from_xml(&data("uk-demo.xml"), Mode::Strict).unwrap()).unwrap();
    let label = nato_label("SECRET", vec![cat("Context", CategoryType::Permissive, &["NATO"])]);
    let err = set.translate(&label, "UK").unwrap_err();
    assert!(err.to_string().contains("has no equivalent in policy `UK`"), "{err}");
    assert!(matches!(set.translate(&label, "1.2.3"), Err(Error::UnknownPolicy { .. })));
}

mod dominance_property {
    use proptest::prelude::*;

    use super::*;

    const COUNTRIES: &[&str] = &["FRA", "ITA", "DEU", "GBR", "USA"];
    const CLASSES: &[&str] = &["UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET"];

    fn subset(mask: u8) -> Vec<&'static str> {
        COUNTRIES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect()
    }

    fn label(class: usize, only: u8, sens: bool) -> Label {
        let mut cats = vec![cat("Context", CategoryType::Permissive, &["NATO"])];
        if only != 0 {
            cats.push(cat("Only", CategoryType::Permissive, &subset(only)));
        }
        if sens && class >= 2 {
            cats.push(cat("Additional Sensitivity", CategoryType::Restrictive, &["CRYPTO"]));
        }
        nato_label(CLASSES[class], cats)
    }

    proptest! {
        /// The dominant label never permits a clearance that one of its parts denies (dominance clearances).
        #[test]
        fn dominant_is_at_least_as_restrictive(parts in proptest::collection::vec((0usize..4, 0u8..32, any::<bool>()), 1..4),
                                               clr in (0usize..4, 0u8..32, any::<bool>())) {
            let spif = nato();
            let labels: Vec<Label> = parts.iter().map(|&(c, o, s)| label(c, o, s)).collect();
            let Ok(d) = spif.dominant(&labels) else { return Ok(()) };
            let mut cats = vec![cat("Context", CategoryType::Permissive, &["NATO"])];
            if clr.1 != 0 { cats.push(cat("Only", CategoryType::Permissive, &subset(clr.1))); }
            if clr.2 { cats.push(cat("Additional Sensitivity", CategoryType::Restrictive, &["CRYPTO"])); }
            let mut c = clearance(&[CLASSES[clr.0]], cats);
            c.levels = Levels::Dominance;
            if spif.decide(&d, &c).is_permit() {
                for l in &labels {
                    prop_assert!(spif.decide(l, &c).is_permit(), "dominant permits but part {:?} denies", l);
                }
            }
        }
    }
}
