//! The confidentiality label as an assertion statement: which statement forms carry a label, the statement
//! written for a label (STANAG 4774 XML, `xml-structured`), and reading any of the three forms. Every label
//! representation and the label → attribute FQN mapping belong to the label crate (`redoubt-label`); this
//! module is the only place this crate touches it.

use redoubt_label::{Label, Mode};
use serde_json::Value;

use super::{AssertionConfig, Statement};
use crate::error::{Error, Result};

/// `format` of the 4774 XML form. Do not change: wire constant.
pub const FORMAT_XML: &str = "xml-structured";
/// `format` of the 4774 JSON rendering. Do not change: wire constant.
pub const FORMAT_JSON_STRUCTURED: &str = "json-structured";
/// `format` of the STANAG 5636 JSON form. Do not change: wire constant.
pub const FORMAT_STANAG_5636: &str = "json+stanag5636";
/// `schema` of a STANAG 4774 confidentiality label. Do not change: wire constant.
pub const SCHEMA_4774: &str = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0";
/// `schema` of the STANAG 5636 JSON elements. Do not change: wire constant.
pub const SCHEMA_5636: &str = "urn:nato:stanag:5636:A:1:elements:json";
/// Id of the label assertion this crate writes.
pub const LABEL_ASSERTION_ID: &str = "stanag-4774-label";

/// Which label form a statement carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelForm {
    /// STANAG 4774 XML (`xml-structured`).
    Xml4774,
    /// The JSON rendering of the 4774 label (`json-structured`).
    JsonStructured4774,
    /// STANAG 5636 JSON (`json+stanag5636`, or any JSON value whose `context.@base` is the 5636 schema).
    Stanag5636,
}

impl LabelForm {
    /// A short name for display.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            LabelForm::Xml4774 => "stanag-4774-xml",
            LabelForm::JsonStructured4774 => "stanag-4774-json-structured",
            LabelForm::Stanag5636 => "stanag-5636-json",
        }
    }
}

/// Recognises a label statement; `None` for anything else.
#[must_use]
pub fn label_form(statement: &Statement) -> Option<LabelForm> {
    let format = statement.format.to_ascii_lowercase();
    let value = statement.value_string();
    if format == FORMAT_XML || (statement.schema == SCHEMA_4774 && value.trim_start().starts_with('<')) {
        return Some(LabelForm::Xml4774);
    }
    if format == FORMAT_STANAG_5636 || statement.schema == SCHEMA_5636 {
        return Some(LabelForm::Stanag5636);
    }
    let json: Option<Value> = match &statement.value {
        Value::String(s) => serde_json::from_str(s).ok(),
        other => Some(other.clone()),
    };
    let base =
        json.as_ref().and_then(|j| j.get("context")).and_then(|c| c.get("@base")).and_then(Value::as_str);
    if format == FORMAT_JSON_STRUCTURED {
        // The platform example wrote the 5636 elements under `json-structured`: tell them apart by context.
        return Some(if base == Some(SCHEMA_5636) {
            LabelForm::Stanag5636
        } else {
            LabelForm::JsonStructured4774
        });
    }
    if base == Some(SCHEMA_5636) {
        return Some(LabelForm::Stanag5636);
    }
    None
}

/// The `handling` assertion carrying a STANAG 4774 XML label, signed with the payload key (HS256).
#[must_use]
pub fn xml_label_assertion(label_xml: &str) -> AssertionConfig {
    AssertionConfig {
        id: LABEL_ASSERTION_ID.into(),
        kind: "handling".into(),
        scope: "tdo".into(),
        applies_to_state: "encrypted".into(),
        statement: Statement::new(FORMAT_XML, SCHEMA_4774, label_xml),
        signer: None,
    }
}

/// Reads the label a statement carries, in whichever of the three forms, through the label crate.
/// `Ok(None)` when the statement is not a label. The caller must have verified the assertion's binding before
/// trusting the result.
///
/// # Errors
/// [`Error::Label`] when the statement claims to be a label but does not parse as one.
pub fn read_label(statement: &Statement) -> Result<Option<(LabelForm, Label)>> {
    let Some(form) = label_form(statement) else { return Ok(None) };
    let text = statement.value_string();
    let parsed = match form {
        LabelForm::Xml4774 => Label::from_xml(text.as_bytes(), Mode::Strict),
        LabelForm::JsonStructured4774 => Label::from_json_structured(&text),
        LabelForm::Stanag5636 => Label::from_5636_json(&text),
    };
    parsed
        .map(|l| Some((form, l)))
        .map_err(|e| Error::Label(format!("the {} label does not parse: {e}", form.as_str())))
}

/// The `handling` assertion for a label, in its most faithful form (4774 XML), signed with the payload key.
#[must_use]
pub fn label_assertion(label: &Label) -> AssertionConfig {
    xml_label_assertion(&label.to_xml())
}

/// The policy attribute FQNs a label stands for under namespace `ns` (the label crate's mapping).
#[must_use]
pub fn label_attributes(label: &Label, ns: &str) -> Vec<String> {
    label.to_attribute_fqns(ns)
}
