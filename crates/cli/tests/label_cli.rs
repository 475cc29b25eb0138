//! Black-box tests of `redoubt label …`: spawn the real binary on the vendored spiffing files and check output
//! and exit codes (0 yes, 1 no, 2 unreadable input).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    reason = "test helpers may fail loudly and report"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../label/tests/data").join(name).display().to_string()
}

fn redoubt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_redoubt")).args(args).output().unwrap()
}

fn redoubt_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redoubt"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn validate_exits_zero_for_a_valid_label_and_one_with_every_reason() {
    let food = data("food-policy.xml");
    let ok =
        redoubt(&["label", "validate", "--lenient", "--spif", &food, &data("food-label-milk-chocolate.xml")]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(stdout(&ok), "valid\n");
    let bad = redoubt(&[
        "label",
        "validate",
        "--lenient",
        "--spif",
        &food,
        &data("food-label-meaty-milk-chocolate.xml"),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.contains("invalid: `Taste Sensations/Meaty` excludes `Ethics/Animal Rights`"), "{err}");
    assert!(err.contains("invalid: `Taste Sensations/Chocolate` excludes `Taste Sensations/Meaty`"), "{err}");
}

#[test]
fn validate_exits_two_on_unreadable_input() {
    let nato = data("nato-4774-policy.xml");
    let missing = redoubt(&["label", "validate", "--spif", &nato, "/nonexistent/label.xml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("cannot read `/nonexistent/label.xml`"), "{}", stderr(&missing));
    // Strict by default: the sloppy ADatP-4774 example is refused with the place of the defect…
    let strict = redoubt(&["label", "validate", "--spif", &nato, &data("nato-4774-17-1.nato")]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(
        stderr(&strict).contains("3:1: element `PolicyIdentifier`: attribute `URL` should be `URI`"),
        "{}",
        stderr(&strict)
    );
    // …and accepted leniently, with each repair reported.
    let lenient = redoubt(&["label", "validate", "--lenient", "--spif", &nato, &data("nato-4774-17-1.nato")]);
    assert_eq!(lenient.status.code(), Some(0), "{}", stderr(&lenient));
    assert!(
        stderr(&lenient).contains("repaired 3:1: attribute `URL` should be `URI`"),
        "{}",
        stderr(&lenient)
    );
}

#[test]
fn mark_in_english_and_french_from_stdin() {
    let nato = data("nato-4774-policy.xml");
    let label = std::fs::read(data("nato-4774-17-1.xml")).unwrap();
    let en = redoubt_stdin(&["label", "mark", "--spif", &nato, "-"], &label);
    assert_eq!(
        stdout(&en),
        "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT\n",
        "{}",
        stderr(&en)
    );
    let fr = redoubt_stdin(&["label", "mark", "--spif", &nato, "--lang", "fr-CA", "-"], &label);
    assert_eq!(stdout(&fr), "NATO SANS CLASSIFICATION Communicable a ISAF, KFOR, RESOLUTE SUPPORT\n");
}

#[test]
fn decide_prints_permit_or_the_failed_rule() {
    let food = data("food-policy.xml");
    let label = data("food-label-milk-chocolate.xml");
    let permit = redoubt(&[
        "label",
        "decide",
        "--lenient",
        "--spif",
        &food,
        "--clearance",
        &data("food-clearance-all-okay.xml"),
        &label,
    ]);
    assert_eq!(permit.status.code(), Some(0), "{}", stderr(&permit));
    assert_eq!(stdout(&permit), "permit\n");
    let deny = redoubt(&[
        "label",
        "decide",
        "--lenient",
        "--spif",
        &food,
        "--clearance",
        &data("food-clearance-lactose-intolerant.xml"),
        &label,
    ]);
    assert_eq!(deny.status.code(), Some(1));
    assert_eq!(
        stdout(&deny),
        "deny: rule 4 (restrictive category): the clearance lacks `Lactose` of `Allergens`\n"
    );
}

#[test]
fn translate_prints_the_alternative_label() {
    let out = redoubt(&[
        "label",
        "translate",
        "--spif",
        &data("tlp-plus.xml"),
        "--spif",
        &data("tlp.xml"),
        "--to",
        "TLP",
        &data("tlpx-amber-eu.xml"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let xml = stdout(&out);
    assert!(xml.starts_with("<alternativeConfidentialityLabel xmlns=\"urn:nato:stanag:4774:confidentialitymetadatalabel:1:0\">"), "{xml}");
    assert!(
        xml.contains("<PolicyIdentifier URI=\"urn:oid:1.2.826.0.1.6726289.0.2\">TLP</PolicyIdentifier>"),
        "{xml}"
    );
    assert!(xml.contains("<Classification>AMBER</Classification>"), "{xml}");
}

#[test]
fn dominant_prints_the_aggregate_label() {
    let nato = data("nato-4774-policy.xml");
    let out = redoubt(&[
        "label",
        "dominant",
        "--spif",
        &nato,
        &data("nato-4774-17-1.xml"),
        &data("nato-4774-17-4.xml"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let xml = stdout(&out);
    assert!(xml.contains("<Classification>RESTRICTED</Classification>"), "{xml}");
    // Releasable To {NATO, ISAF, KFOR, RS} ∩ {NATO, JPN, CHE, UKR} = {NATO}.
    assert!(xml.contains("<Category TagName=\"Releasable To\" Type=\"PERMISSIVE\" URI=\"urn:oid:1.3.26.1.4.2\">\n      <GenericValue>NATO</GenericValue>\n    </Category>"), "{xml}");
}

#[test]
fn convert_to_fqns_and_5636() {
    let nato = data("nato-4774-policy.xml");
    let out = redoubt(&[
        "label",
        "convert",
        "--spif",
        &nato,
        "--to",
        "fqn",
        "--ns",
        "nato.int",
        &data("nato-4774-17-4.xml"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "https://nato.int/attr/classification/value/restricted\nhttps://nato.int/attr/releasable-to/value/jpn\n\
         https://nato.int/attr/releasable-to/value/che\nhttps://nato.int/attr/releasable-to/value/ukr\n\
         https://nato.int/attr/releasable-to/value/nato\nhttps://nato.int/attr/context/value/nato\n\
         https://nato.int/attr/context/value/releasable\n"
    );
    let j =
        redoubt(&["label", "convert", "--spif", &nato, "--to", "stanag5636", &data("nato-4774-17-2.xml")]);
    assert_eq!(
        stdout(&j),
        "{\"ocl\":{\"pol\":\"NATO\",\"cls\":\"UNCLASSIFIED\",\"catl\":[{\"type\":\"P\",\"name\":\"Context\",\"vals\":[\"NATO\"]}]},\"context\":{\"@base\":\"urn:nato:stanag:5636:A:1:elements:json\"}}\n"
    );
    let no_ns = redoubt(&["label", "convert", "--spif", &nato, "--to", "fqn", &data("nato-4774-17-2.xml")]);
    assert_eq!(no_ns.status.code(), Some(2));
}

#[test]
fn unknown_policy_is_named() {
    let out = redoubt(&["label", "mark", "--spif", &data("nato-4774-policy.xml"), &data("stupid-label.ber")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown policy id `1.1`: load the SPIF that defines it"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_strict_failure_says_when_lenient_mode_would_read_the_file() {
    let policy = data("nato-4774-policy.xml");
    let sloppy = data("nato-4774-17-1.nato"); // `URL=` for `URI=`, no CreationDateTime
    let out = redoubt(&["label", "mark", "--spif", &policy, &sloppy]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--lenient accepts this file") && err.contains("`URL` should be `URI`"), "{err}");
    let out = redoubt(&["label", "mark", "--lenient", "--spif", &policy, &sloppy]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out).trim(), "NATO UNCLASSIFIED Releasable to ISAF, KFOR, RESOLUTE SUPPORT");
    // Broken beyond repair: no hint.
    let out = redoubt_stdin(&["label", "mark", "--spif", &policy, "-"], b"<x>");
    assert_eq!(out.status.code(), Some(2));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("--lenient"));
}
