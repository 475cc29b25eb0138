//! The label half of the decision: the STANAG 4774 ACDF (ADatP-4774.1 §3.11.4, in the label crate) on the
//! resource label and the subject's clearance, and the classification ranks the Cedar policies see.

use redoubt_label::{Clearance, Decision as LabelDecision, Label, Spif};

/// The outcome of the ACDF for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub permit: bool,
    /// `acdf: permit`, or `acdf: <rule>: <explanation>` (the label crate's words).
    pub reason: String,
}

/// Runs the ACDF. A label or clearance that does not resolve under the SPIF denies (fail closed).
pub(crate) fn evaluate(spif: &Spif, label: &Label, clearance: &Clearance) -> Outcome {
    match spif.decide(label, clearance) {
        LabelDecision::Permit => Outcome { permit: true, reason: "acdf: permit".to_owned() },
        LabelDecision::Deny(d) => Outcome { permit: false, reason: format!("acdf: {}", spif.explain(&d)) },
    }
}

/// The classifications of a SPIF with their ranks: 1 for the lowest, counting up in hierarchy order. For the
/// NATO SPIF (hierarchy 1..5) the rank is the SPIF `hierarchy` itself; the label crate does not expose raw
/// hierarchy numbers, and only the order matters to a policy.
#[derive(Debug, Clone)]
pub(crate) struct Ranks {
    /// Lowest first.
    names: Vec<String>,
}

/// The classification whose rank becomes `secret_rank` in the Cedar context.
const SECRET: &str = "SECRET";

impl Ranks {
    pub fn new(spif: &Spif) -> Self {
        Ranks { names: spif.classifications().into_iter().map(str::to_owned).collect() }
    }

    /// The SPIF spelling and rank of `classification` (ASCII case ignored), if the SPIF defines it.
    pub fn of(&self, classification: &str) -> Option<(&str, i64)> {
        self.names
            .iter()
            .zip(1_i64..)
            .find(|(n, _)| n.eq_ignore_ascii_case(classification))
            .map(|(n, r)| (n.as_str(), r))
    }

    /// The rank of SECRET; 1 when the SPIF has no SECRET, so that posture rules written "SECRET and above"
    /// apply to every labelled object rather than to none (fail closed).
    pub fn secret(&self) -> i64 {
        self.of(SECRET).map_or(1, |(_, r)| r)
    }
}
