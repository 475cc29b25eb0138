//! Key-length-value packets with 16-byte universal keys, and the sequence of them a metadata PES carries.

use crate::error::KlvError;
use crate::klv::ber;
use crate::klv::key::{SMPTE_PREFIX, UniversalKey};
use crate::reader::Reader;

/// One KLV packet borrowed from a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlvPacket<'a> {
    /// The universal key.
    pub key: UniversalKey,
    /// The value bytes.
    pub value: &'a [u8],
    /// The whole packet: key, length and value (the ST 0601 checksum covers these bytes).
    pub raw: &'a [u8],
}

impl<'a> KlvPacket<'a> {
    /// Parses one KLV packet from the front of `bytes`; returns it and the bytes after it.
    pub fn parse_prefix(bytes: &'a [u8]) -> Result<(Self, &'a [u8]), KlvError> {
        let mut r = Reader::new(bytes);
        if !r.peek_rest().starts_with(&SMPTE_PREFIX) {
            return if r.remaining() < SMPTE_PREFIX.len() && SMPTE_PREFIX.starts_with(r.peek_rest()) {
                Err(KlvError::Truncated("universal key"))
            } else {
                Err(KlvError::NoKey)
            };
        }
        let key = UniversalKey(r.array::<16>().ok_or(KlvError::Truncated("universal key"))?);
        let value = ber::read_value(&mut r)?;
        let rest = r.rest();
        let used = bytes.len().saturating_sub(rest.len());
        let raw = bytes.get(..used).ok_or(KlvError::Truncated("KLV packet"))?;
        Ok((Self { key, value, raw }, rest))
    }

    /// Parses exactly one KLV packet: trailing bytes are an error.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, KlvError> {
        let (packet, rest) = Self::parse_prefix(bytes)?;
        if rest.is_empty() { Ok(packet) } else { Err(KlvError::Trailing(rest.len())) }
    }
}

/// Appends a KLV packet: key, minimal BER length, value.
pub fn write_klv(key: &UniversalKey, value: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(key.as_bytes());
    ber::write_length(value.len(), out);
    out.extend_from_slice(value);
}

/// The KLV packets in a buffer (a metadata PES payload). After a malformed packet it reports the error once and
/// resynchronises on the next `06 0E 2B 34`, so one corrupt packet does not hide the ones after it.
#[derive(Debug, Clone)]
pub struct KlvPackets<'a> {
    rest: &'a [u8],
}

impl<'a> KlvPackets<'a> {
    /// Iterates over the KLV packets in `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
}

impl<'a> Iterator for KlvPackets<'a> {
    type Item = Result<KlvPacket<'a>, KlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match KlvPacket::parse_prefix(self.rest) {
            Ok((packet, rest)) => {
                self.rest = rest;
                Some(Ok(packet))
            }
            Err(err) => {
                // Skip at least one byte, then up to the next SMPTE prefix (or the end).
                let after = self.rest.get(1..).unwrap_or(&[]);
                let skip = after.windows(SMPTE_PREFIX.len()).position(|w| w == SMPTE_PREFIX);
                self.rest = match skip {
                    Some(at) => after.get(at..).unwrap_or(&[]),
                    None => &[],
                };
                Some(Err(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        write_klv(&UniversalKey::UAS_DATALINK, value, &mut out);
        out
    }

    #[test]
    fn round_trip() {
        let bytes = packet(&[1, 2, 3]);
        let p = KlvPacket::parse(&bytes).unwrap();
        assert_eq!(p.key, UniversalKey::UAS_DATALINK);
        assert_eq!(p.value, &[1, 2, 3]);
        assert_eq!(p.raw, &bytes[..]);
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let mut bytes = packet(&[1]);
        bytes.push(9);
        assert_eq!(KlvPacket::parse(&bytes), Err(KlvError::Trailing(1)));
    }

    #[test]
    fn sequence_resyncs_after_garbage() {
        let mut bytes = vec![0xDE, 0xAD];
        bytes.extend(packet(&[7]));
        let mut broken = packet(&[1, 2, 3]);
        broken[16] = 0x7F; // length now runs past the end of this packet and into the next
        bytes.extend(&broken[..17]);
        bytes.extend(packet(&[8]));
        let results: Vec<_> = KlvPackets::new(&bytes).collect();
        assert_eq!(results[0], Err(KlvError::NoKey));
        assert_eq!(results[1].as_ref().unwrap().value, &[7]);
        assert!(matches!(results[2], Err(KlvError::LengthPastEnd { length: 127, .. })));
        assert_eq!(results[3].as_ref().unwrap().value, &[8]);
        assert_eq!(results.len(), 4);
    }
}
