//! Every external representation of labels and clearances, one file per form, and the detection of which form
//! a byte string is in.

pub(crate) mod ber;
pub(crate) mod clearance_xml;
pub(crate) mod cx;
pub(crate) mod json;
pub(crate) mod json_structured;
pub(crate) mod nato_stream;
pub(crate) mod nato_xml;
pub(crate) mod spiffing_xml;
pub(crate) mod stanag5636;

use crate::Mode;
use crate::error::Error;
use crate::limits::LABEL_XML;
use crate::xml;

/// The forms a label or clearance can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// STANAG 4774 label XML.
    NatoXml,
    /// STANAG 4774 clearance XML.
    NatoClearanceXml,
    /// spiffing's XML label form.
    SpiffingLabel,
    /// spiffing's XML clearance form.
    SpiffingClearance,
    /// ESS security label, BER/DER.
    Ber,
    /// Redoubt's compact JSON label.
    CompactLabel,
    /// Redoubt's compact JSON clearance.
    CompactClearance,
    /// STANAG 5636 JSON.
    Stanag5636,
    /// `json-structured` 4774 JSON.
    JsonStructured,
}

/// Detects the form of `input` from its first bytes (and, for XML, its document element).
pub fn detect(input: &[u8]) -> Result<Format, Error> {
    let first = input.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        None => Err(Error::Empty),
        Some(b'<') => {
            let (root, _) = xml::parse(input, LABEL_XML, Mode::Lenient)?;
            let ns = root.ns.as_deref().unwrap_or_default();
            Ok(match (ns, &*root.name) {
                (spiffing_xml::NS_SPIFFING, "label") => Format::SpiffingLabel,
                (spiffing_xml::NS_SPIFFING, "clearance") => Format::SpiffingClearance,
                (_, n) if n.eq_ignore_ascii_case("ConfidentialityClearance") => Format::NatoClearanceXml,
                (ns, _) if ns == clearance_xml::NS_CLEARANCE => Format::NatoClearanceXml,
                _ => Format::NatoXml,
            })
        }
        Some(b'{') => {
            let v: serde_json::Value = serde_json::from_slice(input.get(..input.len().min(crate::limits::MAX_LABEL_BYTES)).unwrap_or_default())
                .map_err(|e| Error::Json { form: "label", detail: e.to_string() })?;
            let has = |k: &str| v.get(k).is_some();
            Ok(if has("ocl") {
                Format::Stanag5636
            } else if has("ConfidentialityInformation") {
                Format::JsonStructured
            } else if v.get("cls").is_some_and(serde_json::Value::is_array) {
                Format::CompactClearance
            } else {
                Format::CompactLabel
            })
        }
        Some(0x31) => Ok(Format::Ber),
        Some(_) => Err(Error::UnsupportedFormat(
            "not XML, JSON or a BER security label: give a 4774 XML label or clearance, spiffing XML, ESS BER, \
             compact JSON, STANAG 5636 JSON or json-structured JSON"
                .into(),
        )),
    }
}
