//! Labels on objects: reading the label a write carries (`x-amz-meta-redoubt-label`: base64 of STANAG 4774 XML,
//! or the compact JSON form), checking it against the domain's SPIF, and the forms stored and shown.

use base64::Engine as _;
use redoubt_label::{Label, Mode, Spif};

/// User-metadata name of the label (header `x-amz-meta-redoubt-label`). Do not change: clients send it.
pub const LABEL_META: &str = "redoubt-label";
/// User-metadata name of the display marking returned with HEAD and GET (header `x-amz-meta-redoubt-marking`).
pub const MARKING_META: &str = "redoubt-marking";
/// Header carrying a bucket's default label on CreateBucket (same forms as the object label).
pub const DEFAULT_LABEL_HEADER: &str = "x-redoubt-default-label";
/// Largest label accepted, in bytes of the header value.
const MAX_LABEL_BYTES: usize = 16 * 1024;

/// A label checked against the SPIF, with the forms the node stores.
#[derive(Debug, Clone)]
pub struct CheckedLabel {
    /// The label.
    pub label: Label,
    /// Its compact JSON form (what is stored in the index).
    pub compact: String,
    /// Its display marking.
    pub marking: String,
}

/// Reads and checks a label header value. The error says what was wrong and what to send instead.
pub fn parse(value: &str, spif: &Spif) -> Result<CheckedLabel, String> {
    if value.len() > MAX_LABEL_BYTES {
        return Err(format!("the label is larger than {MAX_LABEL_BYTES} bytes"));
    }
    let text = value.trim();
    let label = if text.starts_with('{') {
        Label::from_compact_json(text).map_err(|e| format!("the label is not valid compact JSON: {e}"))?
    } else {
        let xml = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| "the label is neither compact JSON nor base64 of STANAG 4774 XML".to_owned())?;
        Label::from_xml(&xml, Mode::Strict)
            .map_err(|e| format!("the label is not a valid STANAG 4774 label: {e}"))?
    };
    check(label, spif)
}

/// Checks a label against the SPIF and computes its stored forms.
pub fn check(label: Label, spif: &Spif) -> Result<CheckedLabel, String> {
    if !spif.is_policy(&label.policy) {
        return Err(format!(
            "the label is under policy `{}`, not this domain's policy `{}` ({})",
            label.policy.name,
            spif.name(),
            spif.oid()
        ));
    }
    let violations = spif.validate(&label);
    if let Some(first) = violations.first() {
        return Err(format!("the label breaks the domain policy: {first}"));
    }
    let marking =
        spif.marking(&label, "").map_err(|e| format!("the label does not resolve under the policy: {e}"))?;
    let compact = label.to_compact_json().map_err(|e| format!("the label cannot be stored: {e}"))?;
    Ok(CheckedLabel { label, compact, marking })
}

/// Reads a stored label back.
pub fn stored(compact: &str) -> Result<Label, String> {
    Label::from_compact_json(compact).map_err(|e| format!("stored label unreadable: {e}"))
}
