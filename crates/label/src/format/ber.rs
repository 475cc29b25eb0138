//! The ESS security label (RFC 2634 `ESSSecurityLabel`, with ACP-145(A)/SDN.801 NATO security categories) in
//! BER/DER, read with a small bounded TLV reader: definite lengths only, single-byte tags, no recursion beyond
//! the fixed shape of the type, every length checked against what remains. Decodes to the numeric label form
//! (policy OID, classification LACV, tag set OIDs and LACVs), which a SPIF resolves into names.
//!
//! ```text
//! ESSSecurityLabel ::= SET { security-policy-identifier OBJECT IDENTIFIER, security-classification INTEGER
//!   OPTIONAL, privacy-mark CHOICE { PrintableString, UTF8String } OPTIONAL, security-categories SET OF
//!   SecurityCategory OPTIONAL }
//! SecurityCategory ::= SEQUENCE { type [0] OBJECT IDENTIFIER, value [1] ANY DEFINED BY type }
//! ```

use crate::error::Error;
use crate::limits::{MAX_LABEL_BYTES, MAX_VALUES};
use crate::spif::bind::{RawLabel, RawTag};
use crate::spif::model::TagType;

// NATO security category types (ACP-145(A)). Do not change: wire identifiers.
const RESTRICTIVE_BITMAP: &str = "2.16.840.1.101.2.1.8.3.0";
const ENUMERATED_PERMISSIVE: &str = "2.16.840.1.101.2.1.8.3.1";
const PERMISSIVE_BITMAP: &str = "2.16.840.1.101.2.1.8.3.2";
const INFORMATIVE: &str = "2.16.840.1.101.2.1.8.3.3";
const ENUMERATED_RESTRICTIVE: &str = "2.16.840.1.101.2.1.8.3.4";

const SET: u8 = 0x31;
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
const UTF8_STRING: u8 = 0x0c;
const PRINTABLE_STRING: u8 = 0x13;

/// A cursor over a BER buffer that never reads past its end.
struct Reader<'a> {
    buf: &'a [u8],
    /// Offset of `buf` in the whole input, for messages.
    base: usize,
    pos: usize,
}

struct Tlv<'a> {
    tag: u8,
    offset: usize,
    body: Reader<'a>,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, base, pos: 0 }
    }

    fn err(&self, detail: impl Into<String>) -> Error {
        Error::Ber { offset: self.base + self.pos, detail: detail.into() }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn byte(&mut self) -> Result<u8, Error> {
        let b = self.buf.get(self.pos).copied().ok_or_else(|| self.err("unexpected end of data"))?;
        self.pos += 1;
        Ok(b)
    }

    fn tlv(&mut self) -> Result<Tlv<'a>, Error> {
        let offset = self.base + self.pos;
        let tag = self.byte()?;
        if tag & 0x1f == 0x1f {
            return Err(self.err("multi-byte tags are not used by security labels"));
        }
        let first = self.byte()?;
        let len = if first < 0x80 {
            usize::from(first)
        } else if first == 0x80 {
            return Err(self.err("indefinite length is not supported: re-encode the label in DER"));
        } else {
            let n = usize::from(first & 0x7f);
            if n > 4 {
                return Err(self.err("length field too long"));
            }
            let mut len = 0usize;
            for _ in 0..n {
                len = (len << 8) | usize::from(self.byte()?);
            }
            len
        };
        let start = self.pos;
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err(format!("length {len} runs past the end of the data")))?;
        let body = self.buf.get(start..end).ok_or_else(|| self.err("length runs past the end"))?;
        self.pos = end;
        Ok(Tlv { tag, offset, body: Reader::new(body, self.base + start) })
    }

    fn expect(&mut self, tag: u8, what: &str) -> Result<Reader<'a>, Error> {
        let t = self.tlv()?;
        if t.tag != tag {
            return Err(Error::Ber {
                offset: t.offset,
                detail: format!("expected {what} (tag 0x{tag:02x}), found tag 0x{:02x}", t.tag),
            });
        }
        Ok(t.body)
    }

    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }
}

fn oid(r: &Reader<'_>) -> Result<String, Error> {
    let bytes = r.rest();
    if bytes.is_empty() {
        return Err(r.err("empty object identifier"));
    }
    let mut arcs: Vec<u64> = Vec::new();
    let mut v: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if v > (u64::MAX >> 7) {
            return Err(r.err("object identifier arc too large"));
        }
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (a, b) = if v < 40 {
                    (0, v)
                } else if v < 80 {
                    (1, v - 40)
                } else {
                    (2, v - 80)
                };
                arcs.push(a);
                arcs.push(b);
            } else {
                arcs.push(v);
            }
            v = 0;
        } else if i + 1 == bytes.len() {
            return Err(r.err("truncated object identifier"));
        }
    }
    Ok(arcs.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

fn integer(r: &Reader<'_>) -> Result<u64, Error> {
    let bytes = r.rest();
    match bytes.first() {
        None => Err(r.err("empty integer")),
        Some(b) if b & 0x80 != 0 => Err(r.err("negative integer where a LACV is expected")),
        Some(_) => {
            let digits = bytes.strip_prefix(&[0]).filter(|d| !d.is_empty()).unwrap_or(bytes);
            if digits.len() > 8 {
                return Err(r.err("integer too large for a LACV"));
            }
            Ok(digits.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
        }
    }
}

fn bits(r: &Reader<'_>, out: &mut Vec<u64>) -> Result<(), Error> {
    let Some((&unused, data)) = r.rest().split_first() else { return Err(r.err("empty bit string")) };
    if unused > 7 {
        return Err(r.err("bit string with more than 7 unused bits"));
    }
    for (i, &byte) in data.iter().enumerate() {
        for j in 0..8u64 {
            if byte & (0x80 >> j) != 0 {
                out.push(i as u64 * 8 + j);
            }
        }
    }
    Ok(())
}

fn integers(mut r: Reader<'_>, out: &mut Vec<u64>) -> Result<(), Error> {
    while !r.is_empty() {
        out.push(integer(&r.expect(INTEGER, "an integer")?)?);
    }
    Ok(())
}

/// Decodes one `SecurityCategory` into tags.
fn category(mut seq: Reader<'_>, tags: &mut Vec<RawTag>) -> Result<(), Error> {
    let t = seq.tlv()?;
    let kind_oid = match t.tag {
        0x80 => oid(&t.body)?,
        0xa0 => {
            let mut inner = t.body;
            oid(&inner.expect(OID, "an object identifier")?)?
        }
        other => {
            return Err(Error::Ber {
                offset: t.offset,
                detail: format!("expected the category type [0], found tag 0x{other:02x}"),
            });
        }
    };
    let mut value = seq.expect(0xa1, "the category value [1]")?;
    let mut tag = value.expect(SEQUENCE, "a tag sequence")?;
    let tag_set_id = oid(&tag.expect(OID, "the tag set object identifier")?)?;
    let mut lacvs = Vec::new();
    let kind = match kind_oid.as_str() {
        RESTRICTIVE_BITMAP | PERMISSIVE_BITMAP => {
            bits(&tag.expect(BIT_STRING, "the attribute flags")?, &mut lacvs)?;
            if kind_oid == RESTRICTIVE_BITMAP { TagType::Restrictive } else { TagType::Permissive }
        }
        ENUMERATED_PERMISSIVE | ENUMERATED_RESTRICTIVE => {
            integers(tag.expect(SET, "the attribute list")?, &mut lacvs)?;
            if kind_oid == ENUMERATED_PERMISSIVE { TagType::EnumPermissive } else { TagType::EnumRestrictive }
        }
        INFORMATIVE => {
            let f = tag.tlv()?;
            match f.tag {
                BIT_STRING => bits(&f.body, &mut lacvs)?,
                SET => integers(f.body, &mut lacvs)?,
                other => {
                    return Err(Error::Ber {
                        offset: f.offset,
                        detail: format!("unexpected informative field tag 0x{other:02x}"),
                    });
                }
            }
            TagType::Informative
        }
        other => {
            return Err(Error::UnsupportedFormat(format!(
                "security category type `{other}` (only the NATO ACP-145 types are read)"
            )));
        }
    };
    for lacv in lacvs {
        if tags.len() >= MAX_VALUES {
            return Err(Error::Limit { what: "category value count", limit: MAX_VALUES, pos: None });
        }
        tags.push(RawTag { tag_set_id: tag_set_id.clone(), kind, lacv });
    }
    Ok(())
}

/// Reads an ESS security label.
pub(crate) fn parse(input: &[u8]) -> Result<RawLabel, Error> {
    if input.is_empty() {
        return Err(Error::Empty);
    }
    if input.len() > MAX_LABEL_BYTES {
        return Err(Error::TooLarge { size: input.len(), limit: MAX_LABEL_BYTES });
    }
    let mut top = Reader::new(input, 0);
    let mut set = top.expect(SET, "an ESSSecurityLabel SET")?;
    if !top.is_empty() {
        return Err(top.err("trailing data after the label"));
    }
    let mut raw = RawLabel::default();
    let mut policy = None;
    while !set.is_empty() {
        let t = set.tlv()?;
        match t.tag {
            OID if policy.is_none() => policy = Some(oid(&t.body)?),
            INTEGER if raw.class_lacv.is_none() => raw.class_lacv = Some(integer(&t.body)?),
            UTF8_STRING | PRINTABLE_STRING if raw.privacy_mark.is_none() => {
                let text = std::str::from_utf8(t.body.rest()).map_err(|_| Error::Ber {
                    offset: t.offset,
                    detail: "privacy mark is not UTF-8".into(),
                })?;
                raw.privacy_mark = Some(text.to_owned());
            }
            SET => {
                let mut cats = t.body;
                while !cats.is_empty() {
                    category(cats.expect(SEQUENCE, "a SecurityCategory")?, &mut raw.tags)?;
                }
            }
            other => {
                return Err(Error::Ber {
                    offset: t.offset,
                    detail: format!("unexpected or repeated field (tag 0x{other:02x}) in the label"),
                });
            }
        }
    }
    raw.policy_id =
        policy.ok_or_else(|| Error::Ber { offset: 0, detail: "no security policy identifier".into() })?;
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_suite_label() {
        let raw = parse(&[
            0x31, 0x16, 0x02, 0x01, 0x33, 0x06, 0x01, 0x29, 0x0c, 0x0e, b'V', b'A', b'G', b'U', b'E', b'L',
            b'Y', b' ', b'S', b'E', b'C', b'R', b'E', b'T',
        ])
        .unwrap();
        assert_eq!(raw.policy_id, "1.1");
        assert_eq!(raw.class_lacv, Some(0x33));
        assert_eq!(raw.privacy_mark.as_deref(), Some("VAGUELY SECRET"));
    }

    #[test]
    fn refuses_lengths_past_the_end() {
        assert!(matches!(parse(&[0x31, 0x7f, 0x02]), Err(Error::Ber { .. })));
        assert!(matches!(parse(&[0x31, 0x84, 0xff, 0xff, 0xff, 0xff]), Err(Error::Ber { .. })));
        assert!(matches!(parse(&[0x31, 0x80, 0, 0]), Err(Error::Ber { .. })));
    }
}
