//! PEM decoding (RFC 7468) and the one piece of X.509 this crate needs: the SubjectPublicKeyInfo of a
//! certificate, found with a bounded DER walk, so a KAS key can be given as a certificate.

use crate::b64;
use crate::error::{Error, Result};

/// All PEM blocks of a text, as (label, DER) pairs, in order.
///
/// # Errors
/// [`Error::Key`] when a block is unterminated or not base64, or there is none.
pub fn pem_blocks(text: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = rest.get(start + 11..).unwrap_or_default();
        let label_end = after.find("-----").ok_or_else(|| Error::Key("a PEM header is malformed".into()))?;
        let label = after.get(..label_end).unwrap_or_default().to_owned();
        let body_start = after.get(label_end + 5..).unwrap_or_default();
        let end_marker = format!("-----END {label}-----");
        let body_end = body_start
            .find(&end_marker)
            .ok_or_else(|| Error::Key(format!("the PEM block `{label}` is not closed")))?;
        let body: String =
            body_start.get(..body_end).unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
        let der = b64::decode(&body, "a PEM block")
            .map_err(|_| Error::Key(format!("the PEM block `{label}` is not base64")))?;
        out.push((label, der));
        rest = body_start.get(body_end + end_marker.len()..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err(Error::Key("no PEM block found".into()));
    }
    Ok(out)
}

/// Encodes DER as a PEM block with 64-column lines.
pub(crate) fn to_pem(label: &str, der: &[u8]) -> String {
    let body = b64::encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    let mut line = String::new();
    for c in body.chars() {
        line.push(c);
        if line.len() == 64 {
            s.push_str(&line);
            s.push('\n');
            line.clear();
        }
    }
    if !line.is_empty() {
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

/// One DER TLV: tag, the whole encoding, and the content.
struct Tlv<'a> {
    tag: u8,
    whole: &'a [u8],
    content: &'a [u8],
}

fn read_tlv(data: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let bad = || Error::Key("the certificate is not valid DER".into());
    let (&tag, rest) = data.split_first().ok_or_else(bad)?;
    let (&first, mut rest) = rest.split_first().ok_or_else(bad)?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(bad());
        }
        let (lb, r) = rest.split_at_checked(n).ok_or_else(bad)?;
        rest = r;
        lb.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let header = data.len() - rest.len();
    let (content, after) = rest.split_at_checked(len).ok_or_else(bad)?;
    let whole = data.get(..header + len).ok_or_else(bad)?;
    Ok((Tlv { tag, whole, content }, after))
}

/// The DER SubjectPublicKeyInfo of an X.509 certificate.
///
/// # Errors
/// [`Error::Key`] when the certificate is malformed.
pub fn spki_from_certificate(cert_der: &[u8]) -> Result<Vec<u8>> {
    let bad = || Error::Key("the certificate is not valid DER".into());
    let (cert, _) = read_tlv(cert_der)?;
    let (tbs, _) = read_tlv(cert.content)?;
    if cert.tag != 0x30 || tbs.tag != 0x30 {
        return Err(bad());
    }
    let mut rest = tbs.content;
    let (first, r) = read_tlv(rest)?;
    rest = if first.tag == 0xa0 { r } else { rest };
    // serial, signature algorithm, issuer, validity, subject
    for _ in 0..5 {
        let (_, r) = read_tlv(rest)?;
        rest = r;
    }
    let (spki, _) = read_tlv(rest)?;
    if spki.tag != 0x30 {
        return Err(bad());
    }
    Ok(spki.whole.to_vec())
}
