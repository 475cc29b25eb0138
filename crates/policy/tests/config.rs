//! Building a PDP and clearances: malformed or invalid Cedar text is rejected with the policy and line named,
//! clearances resolve names against the SPIF and reject unknown ones, names round-trip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing, reason = "tests")]

mod common;

use common::nato;
use redoubt_label::{CategoryType, Levels};
use redoubt_policy::{Action, DEFAULT_POLICIES, Pdp, PolicyError, Role, clearance_for};

#[test]
fn default_policies_load() {
    Pdp::with_defaults(nato()).unwrap();
    assert!(DEFAULT_POLICIES.contains("@id(\"operators-never-read-data\")"));
}

#[test]
fn malformed_cedar_is_rejected_naming_policy_and_line() {
    let text = "@id(\"fine\")\n@reason(\"ok\")\npermit (principal, action, resource);\n\n\
                @id(\"broken\")\n@reason(\"missing a paren\")\npermit (principal, action, resource\nwhen { true };\n";
    let err = Pdp::new(nato(), text).unwrap_err();
    let PolicyError::Parse { policy, line, .. } = &err else { panic!("{err:?}") };
    assert_eq!(policy, "broken");
    assert!(*line >= 7, "{err}");
    let msg = err.to_string();
    assert!(msg.contains("`broken`") && msg.contains("line"), "{msg}");
}

#[test]
fn policies_that_do_not_validate_are_rejected() {
    let text = "@id(\"p1\")\n@reason(\"ok\")\npermit (principal, action, resource);\n\
                @id(\"typo\")\n@reason(\"a misspelt attribute\")\n\
                permit (principal, action, resource) when { principal.rolle == \"reader\" };\n";
    let err = Pdp::new(nato(), text).unwrap_err();
    let PolicyError::Invalid { policy, line, .. } = &err else { panic!("{err:?}") };
    assert_eq!(policy, "typo");
    assert_eq!(*line, 6, "{err}");

    let wrong_type =
        "@id(\"t\")\n@reason(\"r\")\npermit (principal, action, resource) when { context.acdf_permit == 1 };";
    assert!(matches!(Pdp::new(nato(), wrong_type), Err(PolicyError::Invalid { .. })));
    let unknown_action =
        "@id(\"t\")\n@reason(\"r\")\npermit (principal, action == Redoubt::Action::\"fly\", resource);";
    assert!(matches!(Pdp::new(nato(), unknown_action), Err(PolicyError::Invalid { .. })));
}

#[test]
fn every_policy_needs_a_unique_id_and_a_reason() {
    let no_id = "@id(\"a\")\n@reason(\"r\")\npermit (principal, action, resource);\n\
                 @reason(\"r\")\nforbid (principal, action, resource);";
    let err = Pdp::new(nato(), no_id).unwrap_err();
    assert!(matches!(err, PolicyError::Annotation { .. }), "{err:?}");
    assert!(err.to_string().contains("line 4"), "{err}");
    let no_reason = "@id(\"a\")\npermit (principal, action, resource);";
    assert!(Pdp::new(nato(), no_reason).unwrap_err().to_string().contains("@reason"));
    let dup = "@id(\"a\")\n@reason(\"r\")\npermit (principal, action, resource);\n\
               @id(\"a\")\n@reason(\"r\")\nforbid (principal, action, resource);";
    assert!(Pdp::new(nato(), dup).unwrap_err().to_string().contains("repeats the id `a`"));
    let template = "@id(\"t\")\n@reason(\"r\")\npermit (principal == ?principal, action, resource);";
    assert!(matches!(Pdp::new(nato(), template), Err(PolicyError::Annotation { .. })));
}

#[test]
fn clearance_for_resolves_names_against_the_spif() {
    let spif = nato();
    let c = clearance_for(&spif, "secret", Some("fra"), &["NATO".into(), "atomal".into()]).unwrap();
    assert_eq!(c.classifications, ["SECRET"]);
    assert_eq!(c.levels, Levels::Dominance);
    assert!(spif.is_policy(&c.policy));
    let rel = c.categories.iter().find(|c| c.tag_name == "Releasable To").unwrap();
    assert_eq!(rel.kind, CategoryType::Permissive);
    assert!(rel.values.contains(&"FRA".to_owned()));
    let ctx = c.categories.iter().find(|c| c.tag_name == "Context").unwrap();
    assert_eq!(ctx.values, ["NATO"]);
    let sens = c.categories.iter().find(|c| c.tag_name == "Additional Sensitivity").unwrap();
    assert_eq!(
        (sens.kind, sens.values.as_slice()),
        (CategoryType::Restrictive, ["ATOMAL".to_owned()].as_slice())
    );
    // Dominance: a SECRET clearance covers RESTRICTED.
    let expanded = spif.expand_levels(&c).unwrap();
    assert!(expanded.classifications.contains(&"RESTRICTED".to_owned()));
    assert!(!expanded.classifications.contains(&"TOP SECRET".to_owned()));
}

#[test]
fn clearance_for_rejects_unknown_names() {
    let spif = nato();
    let err = clearance_for(&spif, "SECRET", Some("FRA"), &["NOPE".into()]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, PolicyError::UnknownCoi { .. }), "{err:?}");
    assert!(msg.contains("`NOPE`") && msg.contains("NATO"), "the error lists valid values: {msg}");

    let err = clearance_for(&spif, "ULTRA", None, &[]).unwrap_err();
    assert!(matches!(err, PolicyError::UnknownLevel { .. }), "{err:?}");
    assert!(err.to_string().contains("TOP SECRET"), "{err}");

    let err = clearance_for(&spif, "SECRET", Some("XXX"), &[]).unwrap_err();
    assert!(matches!(err, PolicyError::UnknownNationality { .. }), "{err:?}");
    assert!(err.to_string().contains("FRA") || err.to_string().contains("AFG"), "{err}");
    assert!(clearance_for(&spif, "SECRET", Some(""), &[]).is_err());
}

#[test]
fn names_round_trip() {
    for r in Role::ALL {
        assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        assert_eq!(r.to_string(), r.as_str());
    }
    assert!("Reader".parse::<Role>().is_err());
    let names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
    assert_eq!(
        names,
        [
            "read",
            "write",
            "delete",
            "read_label",
            "list",
            "create_bucket",
            "delete_bucket",
            "read_audit",
            "manage_identities",
            "manage_keys",
            "approve_key_destruction"
        ]
    );
    for a in Action::ALL {
        assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
    }
}
