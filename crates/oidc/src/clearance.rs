//! The clearance claim: which of its three forms a value is, and reading it with the label crate.
//!
//! The form is decided by the value alone, never by trying one reader after another: an object is the compact
//! JSON form; a string that decodes as base64 to UTF-8 text starting with `<` and ending with `>` (after an
//! optional byte order mark and white space) is 4774 clearance XML, read strictly; any other string is a
//! classification name. A malformed value of a recognised form is an error, not a fallback to the next form.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use redoubt_label::{Clearance, Mode};
use serde_json::Value;

use crate::error::OidcError;

/// Longest classification name accepted, in bytes.
const MAX_LEVEL_BYTES: usize = 256;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
/// Base64 with `+/`, padding optional.
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
/// Base64url with `-_`, padding optional.
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Reads the clearance claim `claim`: `(clearance, None)` for the JSON and XML forms, `(None, level)` for a name.
pub(crate) fn read(claim: &str, value: &Value) -> Result<(Option<Clearance>, Option<String>), OidcError> {
    let invalid = |problem: String| OidcError::InvalidClearance { claim: claim.to_owned(), problem };
    match value {
        Value::Object(_) => {
            let text = serde_json::to_string(value).map_err(|e| invalid(e.to_string()))?;
            let clearance = Clearance::from_compact_json(&text)
                .map_err(|e| invalid(format!("as a compact JSON clearance: {e}")))?;
            Ok((Some(clearance), None))
        }
        Value::String(text) => match xml_text(text) {
            Some(xml) => {
                let clearance = Clearance::from_xml(xml.as_bytes(), Mode::Strict)
                    .map_err(|e| invalid(format!("as base64 4774 clearance XML: {e}")))?;
                Ok((Some(clearance), None))
            }
            None => level(text).map(|name| (None, Some(name))).map_err(|p| invalid(p.to_owned())),
        },
        _ => Err(invalid(
            "it is neither an object (compact JSON) nor a string (base64 XML or a classification name)"
                .to_owned(),
        )),
    }
}

/// The XML text if `text` is base64 of something that looks like an XML document, else `None`.
fn xml_text(text: &str) -> Option<String> {
    let engine = if text.contains(['-', '_']) { &URL_SAFE } else { &STANDARD };
    let bytes = engine.decode(text).ok()?;
    let xml = String::from_utf8(bytes).ok()?;
    let trimmed = xml.trim_start_matches('\u{feff}').trim();
    (trimmed.starts_with('<') && trimmed.ends_with('>')).then(|| trimmed.to_owned())
}

/// A classification name: non-empty, bounded, no control characters, no surrounding white space.
fn level(text: &str) -> Result<String, &'static str> {
    if text.is_empty() || text.len() > MAX_LEVEL_BYTES {
        return Err("a classification name must be 1 to 256 bytes long");
    }
    if text.chars().any(char::is_control) || text.trim() != text {
        return Err("a classification name must not hold control characters or surrounding white space");
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_not_mistaken_for_xml() {
        // Valid base64 that decodes to bytes starting with `<`, but not to an XML-looking text.
        for name in ["SECRET", "PAID", "PERSONAL", "NATO SECRET", "UNCLASSIFIED", "COSMIC TOP SECRET"] {
            assert_eq!(read("c", &Value::String(name.to_owned())), Ok((None, Some(name.to_owned()))));
        }
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", " SECRET", "SEC\nRET"] {
            assert!(read("c", &Value::String(bad.to_owned())).is_err(), "{bad:?}");
        }
        assert!(read("c", &Value::Bool(true)).is_err());
    }
}
