//! The decision and its explanation: permit or deny, the reasons in words (for the audit), and the ids of the
//! rules that determined it.
//!
//! Reasons name rules and classifications, never a label's text; the caller-facing error carries only the
//! decision's audit id.

/// The outcome of [`crate::Pdp::decide`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// True only when every check permitted.
    pub permit: bool,
    /// Rule names with a short explanation, in evaluation order: the ACDF's first (`acdf: rule 2
    /// (classification): …`), then Cedar's (`cedar forbid operators-never-read-data: …`).
    pub reasons: Vec<String>,
    /// The Cedar policy ids that determined the decision (sorted), preceded by `acdf` when the ACDF was
    /// evaluated.
    pub policy_ids: Vec<String>,
}

impl Decision {
    /// A deny with one reason and no rule.
    pub(crate) fn deny(reason: String) -> Self {
        Decision { permit: false, reasons: vec![reason], policy_ids: Vec::new() }
    }

    /// The reasons joined with `; `, for one-line logs and audit records.
    pub fn explanation(&self) -> String {
        self.reasons.join("; ")
    }
}
