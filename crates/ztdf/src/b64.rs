//! Base64 helpers: standard alphabet with padding (what every SDK writes), lenient on reading only where the
//! SDKs are (unpadded input), and the URL-safe unpadded alphabet for JWS.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::error::{Error, Result};

/// Standard base64 with padding.
pub(crate) fn encode(data: &[u8]) -> String {
    STANDARD.encode(data)
}

/// Decodes standard base64, padded or not; `what` names the field in the error.
pub(crate) fn decode(text: &str, what: &str) -> Result<Vec<u8>> {
    let t = text.trim();
    STANDARD
        .decode(t)
        .or_else(|_| STANDARD_NO_PAD.decode(t.trim_end_matches('=')))
        .map_err(|_| Error::Manifest(format!("{what} is not valid base64")))
}

/// URL-safe base64 without padding (JWS).
pub(crate) fn encode_url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decodes URL-safe base64 without padding (JWS).
pub(crate) fn decode_url(text: &str, what: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| Error::Manifest(format!("{what} is not valid base64url")))
}
