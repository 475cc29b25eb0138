//! BER lengths (short form < 128, long form `0x80 | n` then n big-endian bytes) and BER-OID tags (7 bits per byte,
//! high bit set on every byte but the last).
//!
//! Both are parsed strictly: long lengths of more than 4 bytes, the indefinite form and non-minimal BER-OID tags
//! are rejected, so one tag or length has exactly one spelling (a filter cannot be dodged by re-spelling a tag).
//! Non-minimal long-form *lengths* (e.g. `81 05`) are accepted: producers use fixed-width lengths on purpose.

use crate::error::KlvError;
use crate::reader::Reader;

/// The longest long-form BER length this crate accepts, in bytes after the `0x8n` byte.
pub const MAX_BER_LENGTH_BYTES: u8 = 4;

/// Reads a BER length. It does not check the length against what is left: callers take that many bytes next.
pub(crate) fn read_length(r: &mut Reader<'_>) -> Result<usize, KlvError> {
    let first = r.u8().ok_or(KlvError::Truncated("BER length"))?;
    if first < 0x80 {
        return Ok(usize::from(first));
    }
    let n = first & 0x7F;
    if n == 0 || n > MAX_BER_LENGTH_BYTES {
        return Err(KlvError::BerLengthTooLong(n));
    }
    let bytes = r.take(usize::from(n)).ok_or(KlvError::Truncated("BER long-form length"))?;
    let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    usize::try_from(value).map_err(|_| KlvError::BerLengthTooLong(n))
}

/// Reads a BER length, then that many bytes.
pub(crate) fn read_value<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], KlvError> {
    let length = read_length(r)?;
    let remaining = r.remaining();
    r.take(length).ok_or(KlvError::LengthPastEnd { length, remaining })
}

/// Appends the minimal BER encoding of `length`.
pub fn write_length(length: usize, out: &mut Vec<u8>) {
    if length < 0x80 {
        out.push(length as u8);
        return;
    }
    let bytes = (length as u64).to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let significant = bytes.get(skip..).unwrap_or(&[]);
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
}

/// Reads a BER-OID tag of at most 4 bytes (28 bits), minimally encoded.
pub(crate) fn read_tag(r: &mut Reader<'_>) -> Result<u32, KlvError> {
    let mut tag = 0u32;
    for index in 0..4 {
        let byte = r.u8().ok_or(KlvError::Truncated("BER-OID tag"))?;
        if index == 0 && byte == 0x80 {
            // A leading 0x80 adds nothing: a second spelling of a shorter tag.
            return Err(KlvError::BadTag);
        }
        tag = (tag << 7) | u32::from(byte & 0x7F);
        if byte & 0x80 == 0 {
            return Ok(tag);
        }
    }
    Err(KlvError::BadTag)
}

/// Appends the BER-OID encoding of `tag` (values above 2^28 − 1 are truncated to 28 bits).
pub fn write_tag(tag: u32, out: &mut Vec<u8>) {
    let tag = tag & 0x0FFF_FFFF;
    let mut groups = [0u8; 4];
    let mut count = 0;
    let mut rest = tag;
    loop {
        if let Some(slot) = groups.get_mut(count) {
            *slot = (rest & 0x7F) as u8;
        }
        count += 1;
        rest >>= 7;
        if rest == 0 || count == 4 {
            break;
        }
    }
    for i in (0..count).rev() {
        let group = groups.get(i).copied().unwrap_or(0);
        out.push(if i == 0 { group } else { group | 0x80 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length(bytes: &[u8]) -> Result<usize, KlvError> {
        read_length(&mut Reader::new(bytes))
    }

    fn tag(bytes: &[u8]) -> Result<u32, KlvError> {
        read_tag(&mut Reader::new(bytes))
    }

    #[test]
    fn lengths() {
        assert_eq!(length(&[0x7F]), Ok(127));
        assert_eq!(length(&[0x81, 0xD2]), Ok(210));
        assert_eq!(length(&[0x82, 0x01, 0x00]), Ok(256));
        assert_eq!(length(&[0x84, 0, 0, 1, 0]), Ok(256));
        assert_eq!(length(&[0x85, 0, 0, 0, 1, 0]), Err(KlvError::BerLengthTooLong(5)));
        assert_eq!(length(&[0x80]), Err(KlvError::BerLengthTooLong(0)));
        assert_eq!(length(&[0x82, 0x01]), Err(KlvError::Truncated("BER long-form length")));
        assert_eq!(length(&[]), Err(KlvError::Truncated("BER length")));
    }

    #[test]
    fn value_past_the_end_is_rejected() {
        let mut r = Reader::new(&[0x05, 1, 2]);
        assert_eq!(read_value(&mut r), Err(KlvError::LengthPastEnd { length: 5, remaining: 2 }));
    }

    #[test]
    fn write_lengths() {
        for (len, want) in [(0, vec![0]), (127, vec![0x7F]), (128, vec![0x81, 0x80]), (256, vec![0x82, 1, 0])]
        {
            let mut out = Vec::new();
            write_length(len, &mut out);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn tags() {
        assert_eq!(tag(&[0x01]), Ok(1));
        assert_eq!(tag(&[0x81, 0x00]), Ok(128));
        assert_eq!(tag(&[0x81, 0x0D]), Ok(141));
        assert_eq!(tag(&[0x80, 0x01]), Err(KlvError::BadTag));
        assert_eq!(tag(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), Err(KlvError::BadTag));
        assert_eq!(tag(&[0x81]), Err(KlvError::Truncated("BER-OID tag")));
        let mut out = Vec::new();
        write_tag(141, &mut out);
        assert_eq!(out, [0x81, 0x0D]);
    }
}
