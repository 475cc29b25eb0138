// Shared fixtures: the shipped NATO SPIF, labels and subjects.
#![allow(dead_code, reason = "each test file uses a subset")]

use std::path::Path;

use redoubt_label::{Category, CategoryType, Label, Mode, Spif};
use redoubt_policy::{Posture, Role, Subject, clearance_for};

/// A fixed "now" (2023-11-14T22:13:20Z): the crate never reads a clock.
pub const NOW: i64 = 1_700_000_000;

pub fn nato() -> Spif {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/nato-spif.xml");
    Spif::from_xml(&std::fs::read(path).unwrap(), Mode::Strict).unwrap()
}

/// A NATO label of `class` releasable to `nations`.
pub fn label(spif: &Spif, class: &str, nations: &[&str]) -> Label {
    let mut l = Label::new(spif.policy_id(), class);
    if !nations.is_empty() {
        l.categories.push(Category {
            tag_name: "Releasable To".into(),
            kind: CategoryType::Permissive,
            uri: None,
            values: nations.iter().map(|n| n.to_string()).collect(),
        });
    }
    l
}

pub fn fresh_posture() -> Posture {
    Posture {
        patch_level: "2023-11".into(),
        disk_encrypted: true,
        checked_at_unix: NOW - 3_600,
        device: "laptop-17".into(),
    }
}

/// A subject with a fresh posture, cleared for `level` with `nationality`.
pub fn subject(spif: &Spif, name: &str, role: Role, level: &str, nationality: &str) -> Subject {
    Subject {
        name: name.into(),
        role,
        nationality: Some(nationality.into()),
        cois: Vec::new(),
        clearance: clearance_for(spif, level, Some(nationality), &[]).unwrap(),
        posture: Some(fresh_posture()),
        authn: "mtls".into(),
    }
}
