//! Decisions of the default policy set over the NATO SPIF: the four-identity matrix on one SECRET label
//! releasable to FRA, labelling above one's clearance, device posture, the audit, labels without data, and
//! separation of duties. Every deny is checked for the rule it names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

mod common;

use common::{NOW, fresh_posture, label, nato, subject};
use redoubt_label::Label;
use redoubt_policy::{Action, Decision, Pdp, Request, Resource, Role, Subject};

fn pdp() -> Pdp {
    Pdp::with_defaults(nato()).unwrap()
}

fn decide(pdp: &Pdp, s: &Subject, action: Action, label: Option<&Label>) -> Decision {
    let req = Request {
        subject: s,
        action,
        resource: Resource { bucket: "intel", key: Some("report.pdf"), label },
        now_unix: NOW,
    };
    pdp.decide(&req)
}

fn has_reason(d: &Decision, needle: &str) -> bool {
    d.reasons.iter().any(|r| r.contains(needle))
}

#[test]
fn four_identity_matrix_on_secret_releasable_to_fra() {
    let pdp = pdp();
    let spif = pdp.spif();
    let secret_fra = label(spif, "SECRET", &["FRA"]);

    let cleared = subject(spif, "amelie", Role::Reader, "SECRET", "FRA");
    let d = decide(&pdp, &cleared, Action::Read, Some(&secret_fra));
    assert!(d.permit, "{d:?}");
    assert_eq!(d.policy_ids, ["acdf", "readers-read-cleared-data"]);
    assert_eq!(d.reasons[0], "acdf: permit");

    let uncleared = subject(spif, "bruno", Role::Reader, "UNCLASSIFIED", "FRA");
    let d = decide(&pdp, &uncleared, Action::Read, Some(&secret_fra));
    assert!(!d.permit);
    assert!(d.reasons[0].starts_with("acdf: rule 2 (classification)"), "{d:?}");
    assert!(d.reasons[0].contains("SECRET"), "{d:?}");
    assert!(d.policy_ids.contains(&"acdf".to_owned()));
    assert!(has_reason(&d, "no policy permits read for role reader"), "{d:?}");

    let foreign = subject(spif, "dieter", Role::Reader, "SECRET", "DEU");
    let d = decide(&pdp, &foreign, Action::Read, Some(&secret_fra));
    assert!(!d.permit);
    assert!(d.reasons[0].starts_with("acdf: rule 3 (permissive category)"), "{d:?}");
    assert!(d.reasons[0].contains("Releasable To"), "{d:?}");

    let operator = subject(spif, "olga", Role::Operator, "SECRET", "FRA");
    let d = decide(&pdp, &operator, Action::Read, Some(&secret_fra));
    assert!(!d.permit);
    assert!(d.policy_ids.contains(&"operators-never-read-data".to_owned()), "{d:?}");
    assert!(has_reason(&d, "cedar forbid operators-never-read-data"), "{d:?}");
    // The operator is cleared: the ACDF permitted, the forbid alone denied.
    assert_eq!(d.reasons[0], "acdf: permit");
}

#[test]
fn writer_cannot_label_above_its_clearance() {
    let pdp = pdp();
    let spif = pdp.spif();
    let writer = subject(spif, "wendy", Role::Writer, "CONFIDENTIAL", "FRA");
    let d = decide(&pdp, &writer, Action::Write, Some(&label(spif, "SECRET", &["FRA"])));
    assert!(!d.permit);
    assert!(d.reasons[0].starts_with("acdf: rule 2"), "{d:?}");
    let d = decide(&pdp, &writer, Action::Write, Some(&label(spif, "CONFIDENTIAL", &["FRA"])));
    assert!(d.permit, "{d:?}");
    assert_eq!(d.policy_ids, ["acdf", "writers-write-cleared-labels"]);
    // A reader may not write even what it can read.
    let reader = subject(spif, "rita", Role::Reader, "SECRET", "FRA");
    let d = decide(&pdp, &reader, Action::Write, Some(&label(spif, "CONFIDENTIAL", &["FRA"])));
    assert!(!d.permit);
    assert!(has_reason(&d, "no policy permits write for role reader"), "{d:?}");
}

#[test]
fn read_and_write_need_the_acdf_even_if_a_policy_permits_everything() {
    let text =
        "@id(\"allow-all\")\n@reason(\"test: permits everything\")\npermit (principal, action, resource);";
    let pdp = Pdp::new(nato(), text).unwrap();
    let spif = pdp.spif();
    let uncleared = subject(spif, "bruno", Role::Reader, "UNCLASSIFIED", "FRA");
    let secret = label(spif, "SECRET", &["FRA"]);
    for action in [Action::Read, Action::Write] {
        let d = decide(&pdp, &uncleared, action, Some(&secret));
        assert!(!d.permit, "{action}: {d:?}");
        assert!(d.reasons[0].starts_with("acdf: rule 2"), "{d:?}");
        assert!(has_reason(&d, "needs the label decision to permit"), "{d:?}");
    }
    // read_label follows the policy.
    assert!(decide(&pdp, &uncleared, Action::ReadLabel, Some(&secret)).permit);
}

#[test]
fn posture_rules() {
    let pdp = pdp();
    let spif = pdp.spif();
    let secret = label(spif, "SECRET", &["FRA"]);
    let mut reader = subject(spif, "amelie", Role::Reader, "SECRET", "FRA");

    reader.posture = None;
    let d = decide(&pdp, &reader, Action::Read, Some(&secret));
    assert!(!d.permit);
    assert!(d.policy_ids.contains(&"posture-fresh-for-secret".to_owned()), "{d:?}");
    assert!(has_reason(&d, "cedar forbid posture-fresh-for-secret"), "{d:?}");

    let mut stale = fresh_posture();
    stale.checked_at_unix = NOW - pdp.posture_max_age_secs() - 1;
    reader.posture = Some(stale);
    let d = decide(&pdp, &reader, Action::Read, Some(&secret));
    assert!(!d.permit);
    assert!(d.policy_ids.contains(&"posture-fresh-for-secret".to_owned()), "{d:?}");

    let mut just_fresh = fresh_posture();
    just_fresh.checked_at_unix = NOW - pdp.posture_max_age_secs();
    reader.posture = Some(just_fresh);
    assert!(decide(&pdp, &reader, Action::Read, Some(&secret)).permit);

    let mut future = fresh_posture();
    future.checked_at_unix = NOW + 301;
    reader.posture = Some(future);
    assert!(
        !decide(&pdp, &reader, Action::Read, Some(&secret)).permit,
        "a report from the future is not fresh"
    );

    reader.posture = Some(fresh_posture());
    assert!(decide(&pdp, &reader, Action::Read, Some(&secret)).permit);

    reader.posture = None;
    let d = decide(&pdp, &reader, Action::Read, Some(&label(spif, "RESTRICTED", &["FRA"])));
    assert!(d.permit, "below SECRET needs no posture: {d:?}");

    // TOP SECRET is "SECRET and above".
    let mut ts_reader = subject(spif, "tara", Role::Reader, "TOP SECRET", "FRA");
    ts_reader.posture = None;
    let d = decide(&pdp, &ts_reader, Action::Read, Some(&label(spif, "TOP SECRET", &["FRA"])));
    assert!(d.policy_ids.contains(&"posture-fresh-for-secret".to_owned()), "{d:?}");
}

#[test]
fn posture_max_age_is_configurable() {
    let pdp = pdp().with_posture_max_age_secs(60);
    let spif = pdp.spif();
    let reader = subject(spif, "amelie", Role::Reader, "SECRET", "FRA"); // checked an hour ago
    assert_eq!(pdp.posture_max_age_secs(), 60);
    assert!(!decide(&pdp, &reader, Action::Read, Some(&label(spif, "SECRET", &["FRA"]))).permit);
}

#[test]
fn audit_is_for_auditors() {
    let pdp = pdp();
    let spif = pdp.spif();
    let auditor = subject(spif, "aude", Role::Auditor, "UNCLASSIFIED", "FRA");
    let d = decide(&pdp, &auditor, Action::ReadAudit, None);
    assert!(d.permit, "{d:?}");
    assert_eq!(d.policy_ids, ["auditors-officers-read-audit"], "the ACDF is not evaluated without a label");

    let reader = subject(spif, "rita", Role::Reader, "SECRET", "FRA");
    let d = decide(&pdp, &reader, Action::ReadAudit, None);
    assert!(!d.permit);
    assert_eq!(d.reasons, ["no policy permits read_audit for role reader"]);
    assert!(d.policy_ids.is_empty());

    // Auditors read the audit and nothing else (listing aside), even when cleared.
    let cleared_auditor = subject(spif, "aude", Role::Auditor, "SECRET", "FRA");
    for action in [Action::Read, Action::ReadLabel, Action::Write, Action::Delete] {
        let d = decide(&pdp, &cleared_auditor, action, Some(&label(spif, "RESTRICTED", &["FRA"])));
        assert!(!d.permit, "{action}");
        assert!(d.policy_ids.contains(&"auditors-only-audit".to_owned()), "{action}: {d:?}");
    }
    for action in [Action::ManageIdentities, Action::CreateBucket] {
        let d = decide(&pdp, &cleared_auditor, action, None);
        assert!(d.policy_ids.contains(&"auditors-only-audit".to_owned()), "{action}: {d:?}");
    }
    assert!(decide(&pdp, &cleared_auditor, Action::List, None).permit);
}

#[test]
fn read_label_for_the_cleared_and_for_officers() {
    let pdp = pdp();
    let spif = pdp.spif();
    let secret = label(spif, "SECRET", &["FRA"]);
    let officer = subject(spif, "odile", Role::Officer, "UNCLASSIFIED", "DEU");
    let d = decide(&pdp, &officer, Action::ReadLabel, Some(&secret));
    assert!(d.permit, "{d:?}");
    assert!(d.reasons[0].starts_with("acdf: rule 2"), "the ACDF result is still recorded: {d:?}");
    assert_eq!(d.policy_ids, ["acdf", "officers-read-any-label"]);

    let uncleared = subject(spif, "bruno", Role::Reader, "UNCLASSIFIED", "FRA");
    assert!(!decide(&pdp, &uncleared, Action::ReadLabel, Some(&secret)).permit);
    let cleared = subject(spif, "amelie", Role::Reader, "SECRET", "FRA");
    let d = decide(&pdp, &cleared, Action::ReadLabel, Some(&secret));
    assert!(d.permit);
    assert_eq!(d.policy_ids, ["acdf", "cleared-read-label"]);

    // The officer still needs a fresh posture for a SECRET label.
    let mut officer = officer;
    officer.posture = None;
    assert!(!decide(&pdp, &officer, Action::ReadLabel, Some(&secret)).permit);
}

#[test]
fn no_label_denies_label_bound_actions() {
    let pdp = pdp();
    let s = subject(pdp.spif(), "amelie", Role::Officer, "TOP SECRET", "FRA");
    for action in [Action::Read, Action::Write, Action::ReadLabel] {
        let d = decide(&pdp, &s, action, None);
        assert!(!d.permit, "{action}");
        assert!(d.reasons[0].starts_with("no label"), "{d:?}");
    }
    let d = decide(&pdp, &s, Action::Delete, None);
    assert!(!d.permit, "delete needs the ACDF to permit, so a label: {d:?}");
}

#[test]
fn separation_of_duties() {
    let pdp = pdp();
    let spif = pdp.spif();
    let restricted = label(spif, "RESTRICTED", &["FRA"]);
    let admin = subject(spif, "adam", Role::Administrator, "TOP SECRET", "FRA");
    let operator = subject(spif, "olga", Role::Operator, "TOP SECRET", "FRA");
    for action in [Action::Read, Action::Write, Action::Delete] {
        let d = decide(&pdp, &admin, action, Some(&restricted));
        assert!(!d.permit);
        assert!(d.policy_ids.contains(&"administrators-never-read-data".to_owned()), "{d:?}");
        let d = decide(&pdp, &operator, action, Some(&restricted));
        assert!(d.policy_ids.contains(&"operators-never-read-data".to_owned()), "{d:?}");
    }
    for action in [Action::CreateBucket, Action::DeleteBucket, Action::List] {
        assert!(decide(&pdp, &admin, action, None).permit, "{action}");
        assert!(decide(&pdp, &operator, action, None).permit, "{action}");
    }
    assert!(decide(&pdp, &admin, Action::ManageIdentities, None).permit);
    assert!(!decide(&pdp, &operator, Action::ManageIdentities, None).permit);
    // Key custody: administrators rotate and ask for destruction; only an officer approves it.
    assert!(decide(&pdp, &admin, Action::ManageKeys, None).permit);
    assert!(!decide(&pdp, &operator, Action::ManageKeys, None).permit);
    let d = decide(&pdp, &admin, Action::ApproveKeyDestruction, None);
    assert!(!d.permit, "{d:?}");
    let officer = subject(spif, "odile", Role::Officer, "SECRET", "FRA");
    let d = decide(&pdp, &officer, Action::ApproveKeyDestruction, None);
    assert_eq!(d.policy_ids, ["officers-approve-key-destruction"], "{d:?}");
    assert!(!decide(&pdp, &officer, Action::ManageKeys, None).permit);
    let reader = subject(spif, "rita", Role::Reader, "SECRET", "FRA");
    let d = decide(&pdp, &reader, Action::CreateBucket, None);
    assert!(!d.permit, "{d:?}");
    assert!(!decide(&pdp, &reader, Action::DeleteBucket, None).permit);
    let writer = subject(spif, "wendy", Role::Writer, "SECRET", "FRA");
    assert!(decide(&pdp, &writer, Action::Delete, Some(&restricted)).permit);
    assert!(decide(&pdp, &writer, Action::List, None).permit);
}

#[test]
fn a_label_the_spif_cannot_resolve_denies() {
    let pdp = pdp();
    let spif = pdp.spif();
    let officer = subject(spif, "odile", Role::Officer, "TOP SECRET", "FRA");
    let bogus = label(spif, "COSMIC ULTRA", &["FRA"]);
    let d = decide(&pdp, &officer, Action::Read, Some(&bogus));
    assert!(!d.permit);
    assert!(d.reasons[0].starts_with("acdf: unresolved"), "{d:?}");
    // An unknown classification ranks highest: the posture rule applies to it.
    let mut officer = officer;
    officer.posture = None;
    let d = decide(&pdp, &officer, Action::ReadLabel, Some(&bogus));
    assert!(d.policy_ids.contains(&"posture-fresh-for-secret".to_owned()), "{d:?}");
}

#[test]
fn decisions_are_deterministic_and_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pdp>();
    let pdp = pdp();
    let spif = pdp.spif();
    let operator = subject(spif, "olga", Role::Administrator, "SECRET", "FRA");
    let secret = label(spif, "SECRET", &["FRA"]);
    let first = decide(&pdp, &operator, Action::Read, Some(&secret));
    for _ in 0..20 {
        assert_eq!(decide(&pdp, &operator, Action::Read, Some(&secret)), first);
    }
}

#[test]
fn a_changed_clearance_is_decided_afresh() {
    let pdp = pdp();
    let spif = pdp.spif();
    let secret = label(spif, "SECRET", &["FRA"]);
    let mut s = subject(spif, "amelie", Role::Reader, "SECRET", "FRA");
    assert!(decide(&pdp, &s, Action::Read, Some(&secret)).permit);
    s.clearance = redoubt_policy::clearance_for(spif, "CONFIDENTIAL", Some("FRA"), &[]).unwrap();
    let d = decide(&pdp, &s, Action::Read, Some(&secret));
    assert!(!d.permit && d.reasons[0].starts_with("acdf: rule 2"), "{d:?}");
    s.clearance = redoubt_policy::clearance_for(spif, "SECRET", Some("DEU"), &[]).unwrap();
    let d = decide(&pdp, &s, Action::Read, Some(&secret));
    assert!(!d.permit && d.reasons[0].starts_with("acdf: rule 3"), "{d:?}");
    // A clearance under another policy is rule 1, as the label crate decides it.
    s.clearance.policy.uri = Some("urn:oid:1.2.3".into());
    let d = decide(&pdp, &s, Action::Read, Some(&secret));
    assert!(!d.permit && d.reasons[0].starts_with("acdf: rule 1"), "{d:?}");
}
