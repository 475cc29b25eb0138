//! The confidentiality label value (ADatP-4774): what a label says, independent of the form it was read from.
//!
//! Names are kept as written (policy values are compared case-insensitively by the SPIF, never here). A `Label`
//! is syntactically complete but not necessarily valid under its policy: that is `Spif::validate`'s job.

use std::fmt;

/// Which of the 4774 global elements the label is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LabelKind {
    /// `originatorConfidentialityLabel`: the label the originator gave. Never overwritten.
    #[default]
    Originator,
    /// `alternativeConfidentialityLabel`: an equivalent label under another policy.
    Alternative,
    /// `metadataConfidentialityLabel`: the label of a metadata set.
    Metadata,
    /// `ConfidentialityLabel`: kept by ADatP-4774 for backwards compatibility only.
    Legacy,
}

impl LabelKind {
    /// The XML element name of this kind.
    pub fn element(self) -> &'static str {
        match self {
            LabelKind::Originator => "originatorConfidentialityLabel",
            LabelKind::Alternative => "alternativeConfidentialityLabel",
            LabelKind::Metadata => "metadataConfidentialityLabel",
            LabelKind::Legacy => "ConfidentialityLabel",
        }
    }

    pub(crate) fn from_element(name: &str) -> Option<Self> {
        [LabelKind::Originator, LabelKind::Alternative, LabelKind::Metadata, LabelKind::Legacy]
            .into_iter()
            .find(|k| k.element() == name)
    }
}

/// The policy a label or clearance is under: its name (element text) and optional URI (`urn:oid:…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PolicyId {
    /// The policy name, e.g. `NATO`.
    pub name: String,
    /// The policy URI, e.g. `urn:oid:1.3.26.1.3.1`.
    pub uri: Option<String>,
}

impl PolicyId {
    /// The policy OID if the URI is a `urn:oid:` URI.
    pub fn oid(&self) -> Option<&str> {
        self.uri.as_deref().and_then(|u| u.strip_prefix("urn:oid:"))
    }
}

/// How a category takes part in access control (4774 `Category/@Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CategoryType {
    /// Narrows dissemination: the holder needs every value.
    Restrictive,
    /// Inclusion set: the holder needs at least one value.
    Permissive,
    /// Never used for access control.
    Informative,
}

impl CategoryType {
    /// The 4774 XML spelling (`RESTRICTIVE`…).
    pub fn as_str(self) -> &'static str {
        match self {
            CategoryType::Restrictive => "RESTRICTIVE",
            CategoryType::Permissive => "PERMISSIVE",
            CategoryType::Informative => "INFORMATIVE",
        }
    }

    /// Parses the 4774 spelling; `ignore_case` accepts `permissive` and the like.
    pub fn parse(s: &str, ignore_case: bool) -> Option<Self> {
        [CategoryType::Restrictive, CategoryType::Permissive, CategoryType::Informative]
            .into_iter()
            .find(|t| if ignore_case { t.as_str().eq_ignore_ascii_case(s) } else { t.as_str() == s })
    }
}

impl fmt::Display for CategoryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `Category`: a tag set name, a type, and its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Category {
    /// `TagName`: the SPIF tag set name, e.g. `Releasable To`.
    pub tag_name: String,
    /// `Type`.
    pub kind: CategoryType,
    /// `URI`, e.g. `urn:oid:1.3.26.1.4.2`.
    pub uri: Option<String>,
    /// The `GenericValue`s, e.g. `FRA`, `ITA`.
    pub values: Vec<String>,
}

/// `OriginatorID` with its `IDType`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OriginatorId {
    /// `rfc822Name`, `dNSName`, `directoryName`, `uniformResourceIdentifier`, …
    pub id_type: String,
    /// The identifier.
    pub value: String,
}

/// `SuccessionHandling`: when the label changes and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Succession {
    /// `SuccessionDateTime`.
    pub date_time: String,
    /// `SuccessorConfidentialityLabel`.
    pub successor: Box<Label>,
}

/// A STANAG 4774 confidentiality label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Label {
    /// Which global element it is.
    pub kind: LabelKind,
    /// `@Id`.
    pub id: Option<String>,
    /// `@ReviewDateTime`; a past review date does not invalidate the label.
    pub review_date_time: Option<String>,
    /// `PolicyIdentifier`.
    pub policy: PolicyId,
    /// `Classification`.
    pub classification: String,
    /// `PrivacyMark`.
    pub privacy_mark: Option<String>,
    /// `Category`*, in document order.
    pub categories: Vec<Category>,
    /// `OriginatorID`.
    pub originator_id: Option<OriginatorId>,
    /// `CreationDateTime` (mandatory in 4774; absent only in labels read leniently or made by translation).
    pub creation_date_time: Option<String>,
    /// `SuccessionHandling`.
    pub succession: Option<Succession>,
}

impl Label {
    /// A minimal originator label: policy, classification, no categories.
    pub fn new(policy: PolicyId, classification: impl Into<String>) -> Self {
        Label { policy, classification: classification.into(), ..Label::default() }
    }

    /// The category with this tag name and type, if present (tag names compared ignoring ASCII case).
    pub fn category(&self, tag_name: &str, kind: CategoryType) -> Option<&Category> {
        self.categories.iter().find(|c| c.kind == kind && c.tag_name.eq_ignore_ascii_case(tag_name))
    }
}
