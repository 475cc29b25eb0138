//! The crate's error type: one enum, one variant per kind of failure a caller may want to tell apart.
//!
//! Messages are lower-case, quote user input in backticks, name the element and its line:column for XML, and say
//! what to do. "The input is bad" (parse and reference errors) and "the policy cannot do that" (no equivalence,
//! nothing to aggregate) are distinct variants; nothing here is a bug report.

use crate::xml::Pos;

/// Everything that can go wrong reading, resolving or transforming labels, clearances and SPIFs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input holds nothing (zero bytes or only white space).
    #[error("no data to parse: the input is empty")]
    Empty,
    /// The input is larger than the bound for its kind.
    #[error("input of {size} bytes is over the limit of {limit} bytes: refusing to read it")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// A structural bound (depth, element count, category count…) was exceeded.
    #[error("{}{what} is over the limit of {limit}: refusing to read further", at(.pos))]
    Limit {
        /// What was counted.
        what: &'static str,
        /// The bound.
        limit: usize,
        /// Where, for XML.
        pos: Option<Pos>,
    },
    /// The XML is not well-formed.
    #[error("{pos}: malformed XML: {detail}")]
    Xml {
        /// Where.
        pos: Pos,
        /// What the XML reader said.
        detail: String,
    },
    /// The XML is well-formed but an element or attribute is missing, repeated, unknown or has a bad value.
    #[error("{}element `{element}`: {problem}", at(.pos))]
    Invalid {
        /// Local name of the element at fault.
        element: String,
        /// Where, for XML.
        pos: Option<Pos>,
        /// What is wrong and what to do.
        problem: String,
    },
    /// JSON input that does not parse or does not have the documented shape.
    #[error("malformed {form} JSON: {detail}")]
    Json {
        /// Which JSON form.
        form: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A BER/DER encoded label that does not decode.
    #[error("malformed BER label at byte {offset}: {detail}")]
    Ber {
        /// Byte offset of the fault.
        offset: usize,
        /// What is wrong.
        detail: String,
    },
    /// Bytes in a format this crate does not read.
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
    /// A label or clearance names a policy that no loaded SPIF defines.
    #[error("unknown policy id `{id}`: load the SPIF that defines it")]
    UnknownPolicy {
        /// The policy identifier (OID or name) as given.
        id: String,
    },
    /// A label or clearance is for another policy than the SPIF it was given to.
    #[error("policy mismatch: `{found}` is not the policy `{expected}` of this SPIF")]
    PolicyMismatch {
        /// The SPIF's policy.
        expected: String,
        /// The label's or clearance's policy.
        found: String,
    },
    /// A classification, tag set or category value that the policy does not define.
    #[error("unknown {what} `{value}` in policy `{policy}`: use a value the SPIF defines")]
    Unknown {
        /// `classification`, `tag set`, `category value`.
        what: &'static str,
        /// The value as given.
        value: String,
        /// The policy name.
        policy: String,
    },
    /// The SPIF itself breaks a rule of the Open XML SPIF format.
    #[error("invalid SPIF: {0}")]
    Spif(String),
    /// Translation into another policy is not possible.
    #[error("no equivalence: {0}")]
    NoEquivalent(String),
    /// The labels cannot be aggregated into one dominant label.
    #[error("no dominant label: {0}")]
    NoDominant(String),
    /// An OpenTDF attribute FQN that does not map to the policy.
    #[error("attribute FQN `{fqn}`: {problem}")]
    Fqn {
        /// The FQN as given.
        fqn: String,
        /// What is wrong.
        problem: String,
    },
}

fn at(pos: &Option<Pos>) -> String {
    pos.map(|p| format!("{p}: ")).unwrap_or_default()
}

impl Error {
    pub(crate) fn invalid(element: &str, pos: Option<Pos>, problem: impl Into<String>) -> Self {
        Error::Invalid { element: element.to_owned(), pos, problem: problem.into() }
    }
}
