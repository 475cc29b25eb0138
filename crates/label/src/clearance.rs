//! The confidentiality clearance value: the policy, the classifications a holder is cleared for, and the
//! category values held.
//!
//! How the classification list is read is explicit, never guessed: [`Levels::Listed`] (ADatP-4774.1: the clearance
//! lists every level it is cleared for) or [`Levels::Dominance`] (cleared for the listed levels and every level
//! lower in the SPIF hierarchy). Each form records which one it carries; the 4774 XML and spiffing forms list levels.

use crate::label::{Category, PolicyId};

/// How a clearance's classification list is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Levels {
    /// Exactly the listed classifications (ADatP-4774.1 §3.11.4, and what the NATO clearance XML means).
    #[default]
    Listed,
    /// The listed classifications and every classification with a lower SPIF `hierarchy`
    /// ("cleared for SECRET" means all levels up to SECRET).
    Dominance,
}

impl Levels {
    /// `listed` or `dominance`.
    pub fn as_str(self) -> &'static str {
        match self {
            Levels::Listed => "listed",
            Levels::Dominance => "dominance",
        }
    }
}

/// A STANAG 4774 confidentiality clearance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Clearance {
    /// `PolicyIdentifier`.
    pub policy: PolicyId,
    /// `ClassificationList/Classification`+ (names).
    pub classifications: Vec<String>,
    /// How `classifications` is read.
    pub levels: Levels,
    /// `Category`*: the values held, per tag set and type.
    pub categories: Vec<Category>,
}

impl Clearance {
    /// A clearance for `classifications` under `policy`, holding no categories.
    pub fn new(policy: PolicyId, classifications: Vec<String>, levels: Levels) -> Self {
        Clearance { policy, classifications, levels, categories: Vec::new() }
    }
}
