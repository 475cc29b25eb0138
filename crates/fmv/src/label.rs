//! ST 0102 security metadata ↔ STANAG 4774 confidentiality label, so a stream is access-controlled exactly like
//! a stored object. ST 0102 names no 4774 policy, so the mapping is configured per security domain
//! ([`LabelMapping`]): the policy, and which SPIF tag sets carry releasability and caveats.
//!
//! Both directions fail closed. A set without a valid classification yields no label (see
//! [`SecurityMarking`]); a label with a category this mapping cannot express in ST 0102 is refused rather than
//! marked with less than it says. Values are kept as written: checking them against the SPIF
//! (`Spif::validate`) is the caller's job, and a stream whose country codes the SPIF does not know fails it.

use redoubt_label::{Category, CategoryType, Label, PolicyId};

use crate::st0102::{Classification, MarkingError, SecurityMarking, SecuritySet};

/// How ST 0102 fields map onto one 4774 policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMapping {
    /// The policy every mapped label is under.
    pub policy: PolicyId,
    /// The permissive tag set that carries ST 0102 releasing instructions (tag 6).
    pub releasable_to: String,
    /// The restrictive tag set that carries ST 0102 SCI/SHI and caveats (tags 4 and 5).
    pub caveats: String,
}

/// Why a label cannot be expressed as ST 0102 metadata under a mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelMappingError {
    /// The label is under another policy.
    #[error("label policy `{found}` is not the mapped policy `{expected}`: translate the label first")]
    WrongPolicy {
        /// The mapping's policy name.
        expected: String,
        /// The label's policy name.
        found: String,
    },
    /// The classification has no ST 0102 code.
    #[error(
        "classification `{0}` has no ST 0102 equivalent (UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, TOP SECRET)"
    )]
    Classification(String),
    /// A category would be lost: dropping it would widen access.
    #[error("category `{0}` cannot be carried in ST 0102 under this mapping; refusing to drop it")]
    Category(String),
}

impl LabelMapping {
    /// The NATO policy (`urn:oid:1.3.26.1.3.1`), whose classification names are ST 0102's words:
    /// releasability in `Releasable To`, caveats in `Additional Sensitivity`.
    pub fn nato() -> Self {
        Self {
            policy: PolicyId { name: "NATO".to_owned(), uri: Some("urn:oid:1.3.26.1.3.1".to_owned()) },
            releasable_to: "Releasable To".to_owned(),
            caveats: "Additional Sensitivity".to_owned(),
        }
    }

    /// The label of an ST 0102 set (fails closed, see [`SecurityMarking`]).
    pub fn label_of(&self, set: &SecuritySet) -> Result<Label, MarkingError> {
        SecurityMarking::try_from(set).map(|m| self.to_label(&m))
    }

    /// The label a marking maps to: classification word, releasability as a permissive category, caveats as a
    /// restrictive one.
    pub fn to_label(&self, marking: &SecurityMarking) -> Label {
        let mut label = Label::new(self.policy.clone(), marking.classification.as_str());
        if !marking.releasable_to.is_empty() {
            label.categories.push(Category {
                tag_name: self.releasable_to.clone(),
                kind: CategoryType::Permissive,
                uri: None,
                values: marking.releasable_to.clone(),
            });
        }
        if !marking.caveats.is_empty() {
            label.categories.push(Category {
                tag_name: self.caveats.clone(),
                kind: CategoryType::Restrictive,
                uri: None,
                values: marking.caveats.clone(),
            });
        }
        label
    }

    /// The marking that carries `label` in ST 0102, with the classifying country and its coding method (which a
    /// label does not hold). Informative categories are not carried; any other unmapped category is an error.
    pub fn from_label(
        &self,
        label: &Label,
        classifying_country: &str,
        country_coding_method: u8,
    ) -> Result<SecurityMarking, LabelMappingError> {
        let same_policy = match (self.policy.oid(), label.policy.oid()) {
            (Some(a), Some(b)) => a == b,
            _ => self.policy.name.eq_ignore_ascii_case(&label.policy.name),
        };
        if !same_policy {
            return Err(LabelMappingError::WrongPolicy {
                expected: self.policy.name.clone(),
                found: label.policy.name.clone(),
            });
        }
        let classification = [
            Classification::Unclassified,
            Classification::Restricted,
            Classification::Confidential,
            Classification::Secret,
            Classification::TopSecret,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(label.classification.trim()))
        .ok_or_else(|| LabelMappingError::Classification(label.classification.clone()))?;
        let mut marking = SecurityMarking {
            classification,
            classifying_country: crate::st0102::marking::country(classifying_country),
            country_coding_method,
            marking_system: None,
            releasable_to: Vec::new(),
            caveats: Vec::new(),
        };
        for category in &label.categories {
            let name = &category.tag_name;
            match category.kind {
                CategoryType::Informative => {}
                CategoryType::Permissive if name.eq_ignore_ascii_case(&self.releasable_to) => {
                    marking.releasable_to.extend(category.values.iter().cloned());
                }
                CategoryType::Restrictive if name.eq_ignore_ascii_case(&self.caveats) => {
                    marking.caveats.extend(category.values.iter().cloned());
                }
                _ => return Err(LabelMappingError::Category(name.clone())),
            }
        }
        Ok(marking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::st0102::tag;

    #[test]
    fn st0102_to_label_and_back() {
        let mut set = SecuritySet::new(Classification::Secret, 7, "//NATO", 12);
        set.set(tag::RELEASING_INSTRUCTIONS, b"NLD USA".to_vec());
        set.set(tag::CAVEATS, b"EXCLUSIVE".to_vec());
        let mapping = LabelMapping::nato();
        let label = mapping.label_of(&set).unwrap();
        assert_eq!(label.classification, "SECRET");
        assert_eq!(label.policy.oid(), Some("1.3.26.1.3.1"));
        let rel = label.category("Releasable To", CategoryType::Permissive).unwrap();
        assert_eq!(rel.values, ["NLD", "USA"]);
        assert_eq!(
            label.category("Additional Sensitivity", CategoryType::Restrictive).unwrap().values,
            ["EXCLUSIVE"]
        );
        let back = mapping.from_label(&label, "//NATO", 7).unwrap();
        assert_eq!(back, SecurityMarking::try_from(&set).unwrap());
    }

    #[test]
    fn fails_closed_both_ways() {
        let mapping = LabelMapping::nato();
        assert_eq!(mapping.label_of(&SecuritySet::default()), Err(MarkingError::MissingClassification));
        let mut label = Label::new(mapping.policy.clone(), "COSMIC TOP SECRET");
        assert!(matches!(mapping.from_label(&label, "NATO", 7), Err(LabelMappingError::Classification(_))));
        label.classification = "SECRET".to_owned();
        label.categories.push(Category {
            tag_name: "Only".to_owned(),
            kind: CategoryType::Permissive,
            uri: None,
            values: vec!["NLD".to_owned()],
        });
        assert_eq!(
            mapping.from_label(&label, "NATO", 7),
            Err(LabelMappingError::Category("Only".to_owned()))
        );
        let other = Label::new(PolicyId { name: "UK".to_owned(), uri: None }, "SECRET");
        assert!(matches!(mapping.from_label(&other, "GBR", 7), Err(LabelMappingError::WrongPolicy { .. })));
    }
}
