//! The one piece of X.509 this crate needs: the SubjectPublicKeyInfo of a DER certificate, found with a bounded
//! DER reader (definite lengths only, every length checked against the bytes left).

use crate::error::{Error, Result};

/// One DER element: its tag, its whole encoding and its content.
struct Tlv<'a> {
    tag: u8,
    whole: &'a [u8],
    content: &'a [u8],
}

fn bad() -> Error {
    Error::Key("the certificate is not valid DER".into())
}

/// Reads one element; returns it and the bytes after it.
fn read_tlv(data: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = data.split_first().ok_or_else(bad)?;
    let (&first, mut rest) = rest.split_first().ok_or_else(bad)?;
    let mut header = 2usize;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(bad());
        }
        let (len_bytes, r) = rest.split_at_checked(n).ok_or_else(bad)?;
        rest = r;
        header += n;
        len_bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let (content, after) = rest.split_at_checked(len).ok_or_else(bad)?;
    let whole = data.get(..header + len).ok_or_else(bad)?;
    Ok((Tlv { tag, whole, content }, after))
}

/// The DER SubjectPublicKeyInfo of an X.509 certificate.
///
/// # Errors
/// [`Error::Key`] when the certificate is malformed.
pub fn spki_from_certificate(cert_der: &[u8]) -> Result<&[u8]> {
    let (cert, _) = read_tlv(cert_der)?;
    if cert.tag != 0x30 {
        return Err(bad());
    }
    let (tbs, _) = read_tlv(cert.content)?;
    if tbs.tag != 0x30 {
        return Err(bad());
    }
    let mut rest = tbs.content;
    let (first, r) = read_tlv(rest)?;
    // The optional explicit [0] version.
    if first.tag == 0xa0 {
        rest = r;
    }
    // serial, signature algorithm, issuer, validity, subject
    for _ in 0..5 {
        let (_, r) = read_tlv(rest)?;
        rest = r;
    }
    let (spki, _) = read_tlv(rest)?;
    if spki.tag != 0x30 {
        return Err(bad());
    }
    Ok(spki.whole)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_not_panicking() {
        for bytes in [&[][..], &[0x30], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &[0x30, 0x02, 0x30, 0x05]] {
            assert!(spki_from_certificate(bytes).is_err());
        }
    }
}
