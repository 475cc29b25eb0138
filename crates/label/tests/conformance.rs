//! Runs every case of the spiffing conformance suite (`tests/data/tests.xml`, vendored with its LICENSE from the
//! surevine/spiffing project): policy loading errors, validity, label and clearance markings in every listed
//! language, ACDF results, translation ("encrypt") with its marking, and expected exceptions.
//!
//! Like the reference runner, a label file that does not exist reads as empty input. SPIFs are read leniently (the
//! suite's food policy has a mismatched end tag, accepted by the C++ reader); the repairs are printed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "test helpers may fail loudly and report"
)]

use std::path::{Path, PathBuf};

use quick_xml::Reader;
use quick_xml::events::Event;
use redoubt_label::{Error, Mode, PolicySet, Spif};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data().join(name)).unwrap_or_default()
}

/// spiffing's expected exception texts, and the error each stands for here.
fn matches_exception(expected: &str, err: &Error) -> bool {
    match expected {
        "No data to parse" => matches!(err, Error::Empty),
        "Duplicate excluded classification in category" => {
            matches!(err, Error::Spif(m) if m.contains("duplicate excluded classification in category"))
        }
        e if e.starts_with("Unknown policy id: ") => {
            matches!(err, Error::UnknownPolicy { id } if Some(id.as_str()) == e.strip_prefix("Unknown policy id: "))
        }
        _ => false,
    }
}

#[derive(Debug, Default)]
struct Case {
    kind: String,
    attrs: Vec<(String, String)>,
}

impl Case {
    fn get(&self, k: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
}

/// The suite as a list of sequences of `policy`/`test` elements.
fn suite() -> Vec<Vec<Case>> {
    let text = read("tests.xml");
    let mut reader = Reader::from_reader(text.as_slice());
    let mut out: Vec<Vec<Case>> = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                match name.as_str() {
                    "sequence" => out.push(Vec::new()),
                    "policy" | "test" => {
                        let attrs = e
                            .attributes()
                            .map(|a| {
                                let a = a.unwrap();
                                (
                                    String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                                    a.unescape_value().unwrap().into_owned(),
                                )
                            })
                            .collect();
                        out.last_mut().unwrap().push(Case { kind: name, attrs });
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn run_policy(set: &mut PolicySet, case: &Case) -> Result<(), String> {
    let file = case.get("spif").unwrap();
    let result = Spif::from_xml_with_repairs(&read(file), Mode::Lenient);
    match (result, case.get("exception")) {
        (Ok((spif, repairs)), None) => {
            for r in repairs {
                println!("  {file}: repaired: {r}");
            }
            set.add(spif).map_err(|e| e.to_string())
        }
        (Ok(_), Some(ex)) => Err(format!("{file}: expected exception `{ex}`, loaded fine")),
        (Err(e), Some(ex)) if matches_exception(ex, &e) => Ok(()),
        (Err(e), _) => Err(format!("{file}: {e}")),
    }
}

fn run_test(set: &PolicySet, case: &Case) -> Result<(), String> {
    let file = case.get("label").unwrap();
    let expected_exception = case.get("exception");
    let outcome = (|| -> Result<(), Error> {
        let (mut label, _) = set.read_label(&read(file), Mode::Lenient)?;
        let lang = case.get("xml:lang").unwrap_or("");
        let spif = set.policy_of(&label.policy)?;
        if let Some(valid) = case.get("valid") {
            let violations = spif.validate(&label);
            if violations.is_empty() != (valid == "true") {
                return Err(Error::Spif(format!("validity: expected {valid}, violations: {violations:?}")));
            }
        }
        if let Some(marking) = case.get("label-marking") {
            let got = spif.marking(&label, lang)?;
            if got != marking {
                return Err(Error::Spif(format!("label marking: expected `{marking}`, got `{got}`")));
            }
        }
        if let Some(to) = case.get("encrypt") {
            label = set.translate(&label, to)?;
        }
        let spif = set.policy_of(&label.policy)?;
        if let Some(marking) = case.get("encrypt-marking") {
            let got = spif.marking(&label, lang)?;
            if got != marking {
                return Err(Error::Spif(format!("encrypt marking: expected `{marking}`, got `{got}`")));
            }
        }
        if let Some(cfile) = case.get("clearance") {
            let (clearance, _) = set.read_clearance(&read(cfile), Mode::Lenient)?;
            let cspif = set.policy_of(&clearance.policy)?;
            if let Some(marking) = case.get("clearance-marking") {
                let got = cspif.clearance_marking(&clearance, "")?;
                if got != marking {
                    return Err(Error::Spif(format!("clearance marking: expected `{marking}`, got `{got}`")));
                }
            }
            if let Some(expected) = case.get("acdf-result") {
                let decision = cspif.decide(&label, &clearance);
                if decision.is_permit() != (expected == "1") {
                    return Err(Error::Spif(format!("acdf: expected {expected}, got {decision:?}")));
                }
            }
        }
        Ok(())
    })();
    match (outcome, expected_exception) {
        (Ok(()), None) => Ok(()),
        (Ok(()), Some(ex)) => Err(format!("{file}: expected exception `{ex}`")),
        (Err(e), Some(ex)) if matches_exception(ex, &e) => Ok(()),
        (Err(e), _) => Err(format!("{file}: {e}")),
    }
}

#[test]
fn spiffing_conformance_suite() {
    let (mut passed, mut failed) = (0, Vec::new());
    let skipped = 0;
    for sequence in suite() {
        let mut set = PolicySet::new();
        for case in &sequence {
            let r = if case.kind == "policy" { run_policy(&mut set, case) } else { run_test(&set, case) };
            match r {
                Ok(()) => passed += 1,
                Err(e) => failed.push(e),
            }
        }
    }
    println!("spiffing conformance: {passed} passed, {skipped} skipped, {} failed", failed.len());
    for f in &failed {
        println!("  FAILED {f}");
    }
    assert!(failed.is_empty(), "{} conformance cases failed: {failed:#?}", failed.len());
    assert_eq!(passed, 31, "every case of tests.xml must run");
}
