//! STANAG 4774 confidentiality labels and clearances, and the Open XML SPIF security policies that give them
//! meaning: reading and writing every representation, validation, display markings, the access decision (ACDF),
//! the dominant label of an aggregate, and translation into equivalent policies.
//!
//! This crate owns every representation of a label in Redoubt. It is pure: bytes in, values out; it never does
//! I/O, reads a clock or logs. Every parser of untrusted input is bounded (size, depth, counts; see [`limits`]) and
//! returns an [`Error`] that names the element and its line:column; none panics.
//!
//! # Values and policies
//! A [`Label`] and a [`Clearance`] are what a label or clearance *says*, in names, whatever form they came from.
//! A [`Spif`] is a compiled policy. Binding ([`Spif::bind_label`], [`Spif::bind_clearance`]) resolves names into
//! indexes; the hot path, [`Spif::decide_bound`], works on bound values and allocates nothing.
//!
//! # Forms
//! | form | read | write |
//! |---|---|---|
//! | 4774 label XML (strict, or lenient with repairs) | [`Label::from_xml`] | [`Label::to_xml`] |
//! | 4774 clearance XML | [`Clearance::from_xml`] | [`Clearance::to_xml`] |
//! | spiffing XML label / clearance (needs the SPIF) | [`PolicySet::read_label`], [`PolicySet::read_clearance`] | [`Spif::to_spiffing_xml`] |
//! | ESS security label, BER/DER (needs the SPIF) | [`PolicySet::read_label`] | — |
//! | compact JSON (versioned, ours) | [`Label::from_compact_json`], [`Clearance::from_compact_json`] | `to_compact_json` |
//! | STANAG 5636 JSON (ZTDF `json+stanag5636`) | [`Label::from_5636_json`] | [`Label::to_5636_json`] |
//! | `json-structured` 4774 JSON (ZTDF) | [`Label::from_json_structured`] | [`Label::to_json_structured`] |
//! | OpenTDF attribute FQNs | [`Label::from_attribute_fqns`] | [`Label::to_attribute_fqns`] |
//!
//! # OpenTDF attribute FQN mapping
//! `https://<ns>/attr/classification/value/<classification>` for the classification (a `HIERARCHY` attribute),
//! `https://<ns>/attr/<tag set>/value/<value>` for each permissive (`ANY_OF`) and restrictive (`ALL_OF`) value;
//! informative categories are not mapped. Names are lower-cased and every run of other characters than
//! `[a-z0-9_]` becomes `-` (`Releasable To` → `releasable-to`); the reverse recovers exact names from the SPIF.
//! See [`fqn`] and `docs/labels.md`.
//!
//! # Access decision
//! ADatP-4774.1 §3.11.4, deny unless permit: same policy; classification covered; one value held of every
//! permissive tag; every restrictive value held; informative ignored. Whether a clearance's classification list
//! means exactly those levels or dominates by hierarchy is explicit: [`Levels`].

pub mod error;
pub mod fqn;
pub mod limits;

mod clearance;
mod format;
mod label;
mod spif;
mod xml;

pub use clearance::{Clearance, Levels};
pub use error::Error;
pub use format::{Format, detect};
pub use label::{Category, CategoryType, Label, LabelKind, OriginatorId, PolicyId, Succession};
pub use spif::marking::MarkingLocation;
pub use spif::{AcdfRule, BoundClearance, BoundLabel, Decision, Denial, PolicySet, Spif, Violation};
pub use xml::Pos;

/// How strictly XML input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Follow the standard; every defect is an error.
    #[default]
    Strict,
    /// Accept the common real-world defects and report each as a [`Repair`].
    Lenient,
}

/// A defect that lenient reading accepted, and what it did about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Where, for XML.
    pub pos: Option<Pos>,
    /// The defect and the repair.
    pub what: String,
}

impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{p}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl Label {
    /// Reads a 4774 XML label (any of the four label elements).
    pub fn from_xml(input: &[u8], mode: Mode) -> Result<Label, Error> {
        format::nato_xml::parse(input, mode).map(|(l, _)| l)
    }

    /// Reads a 4774 XML label and returns what lenient mode repaired (empty in strict mode).
    pub fn from_xml_with_repairs(input: &[u8], mode: Mode) -> Result<(Label, Vec<Repair>), Error> {
        format::nato_xml::parse(input, mode)
    }

    /// Writes the label as 4774 XML, under the element of its [`LabelKind`].
    pub fn to_xml(&self) -> String {
        format::nato_xml::write(self)
    }

    /// Reads the compact JSON form.
    pub fn from_compact_json(input: &str) -> Result<Label, Error> {
        format::json::parse_label(input)
    }

    /// Writes the compact JSON form (fails only for a label with `SuccessionHandling`).
    pub fn to_compact_json(&self) -> Result<String, Error> {
        format::json::write_label(self)
    }

    /// Reads the STANAG 5636 JSON form.
    pub fn from_5636_json(input: &str) -> Result<Label, Error> {
        format::stanag5636::parse(input)
    }

    /// Writes the STANAG 5636 JSON form (lossy: no review date, privacy mark, originator).
    pub fn to_5636_json(&self) -> Result<String, Error> {
        format::stanag5636::write(self)
    }

    /// Reads the `json-structured` 4774 JSON form.
    pub fn from_json_structured(input: &str) -> Result<Label, Error> {
        format::json_structured::parse(input)
    }

    /// Writes the `json-structured` 4774 JSON form.
    pub fn to_json_structured(&self) -> Result<String, Error> {
        format::json_structured::write(self)
    }
}

impl Clearance {
    /// Reads a 4774 clearance XML.
    pub fn from_xml(input: &[u8], mode: Mode) -> Result<Clearance, Error> {
        format::clearance_xml::parse(input, mode).map(|(c, _)| c)
    }

    /// Reads a 4774 clearance XML and returns what lenient mode repaired.
    pub fn from_xml_with_repairs(input: &[u8], mode: Mode) -> Result<(Clearance, Vec<Repair>), Error> {
        format::clearance_xml::parse(input, mode)
    }

    /// Writes the 4774 clearance XML. Only meaningful for [`Levels::Listed`]; expand a dominance clearance with
    /// [`Spif::expand_levels`] first.
    pub fn to_xml(&self) -> String {
        format::clearance_xml::write(self)
    }

    /// Reads the compact JSON form.
    pub fn from_compact_json(input: &str) -> Result<Clearance, Error> {
        format::json::parse_clearance(input)
    }

    /// Writes the compact JSON form.
    pub fn to_compact_json(&self) -> Result<String, Error> {
        format::json::write_clearance(self)
    }
}

impl Spif {
    /// Writes `label` in spiffing's XML form (policy OID, LACVs).
    pub fn to_spiffing_xml(&self, label: &Label) -> Result<String, Error> {
        Ok(format::spiffing_xml::write_label(&self.raw_of(label)?))
    }
}
