//! Builds ST 0601 packets: items in the order given, then the checksum, computed last.

use crate::klv::checksum::running_sum16;
use crate::klv::key::UniversalKey;
use crate::klv::{LocalSetWriter, ber};
use crate::st0102::SecuritySet;
use crate::st0601::tags::{self, Format, tag_info};
use crate::st0601::value::encode_quantity;
use crate::time::PrecisionTime;

/// The caller asked the writer for something the tag's format cannot carry (a misuse of the API, not bad input).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The tag's format is not a number with a unit.
    #[error("tag {0} is not a numeric quantity; write it with `raw`")]
    NotAQuantity(u32),
}

/// Writes one ST 0601 packet.
#[derive(Debug, Clone, Default)]
pub struct UasDatalinkWriter {
    body: LocalSetWriter,
}

impl UasDatalinkWriter {
    /// An empty packet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an item with raw value bytes.
    pub fn raw(&mut self, tag: u32, value: &[u8]) -> &mut Self {
        self.body.item(tag, value);
        self
    }

    /// Appends tag 2, the precision time stamp.
    pub fn precision_time(&mut self, time: PrecisionTime) -> &mut Self {
        self.raw(tags::tag::PRECISION_TIME_STAMP, &time.micros().to_be_bytes())
    }

    /// Appends a text item (mission id, platform designation...).
    pub fn text(&mut self, tag: u32, text: &str) -> &mut Self {
        self.raw(tag, text.as_bytes())
    }

    /// Appends tag 65, the ST 0601 version.
    pub fn version(&mut self, version: u8) -> &mut Self {
        self.raw(tags::tag::VERSION, &[version])
    }

    /// Appends a number in the tag's unit, mapped by the tag's format (clamped to its range).
    pub fn quantity(&mut self, tag: u32, value: f64) -> Result<&mut Self, EncodeError> {
        let format = tag_info(tag).format;
        let bytes = match format {
            Format::Unsigned { .. } | Format::Signed { .. } | Format::Imapb { .. } => {
                encode_quantity(format, value)
            }
            _ => None,
        }
        .ok_or(EncodeError::NotAQuantity(tag))?;
        Ok(self.raw(tag, &bytes))
    }

    /// Appends tag 48, a nested ST 0102 security set.
    pub fn security(&mut self, set: &SecuritySet) -> &mut Self {
        self.raw(tags::tag::SECURITY_LOCAL_SET, &set.encode_nested())
    }

    /// The finished packet: key, BER length, items, checksum.
    pub fn finish(&self) -> Vec<u8> {
        let body = self.body.as_bytes();
        let mut out = Vec::with_capacity(body.len() + 24);
        out.extend_from_slice(UniversalKey::UAS_DATALINK.as_bytes());
        ber::write_length(body.len() + 4, &mut out);
        out.extend_from_slice(body);
        out.extend_from_slice(&[tags::tag::CHECKSUM as u8, 2]);
        let checksum = running_sum16(&out);
        out.extend_from_slice(&checksum.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::st0601::UasDatalinkSet;

    #[test]
    fn rebuilds_the_digest_packet() {
        let mut w = UasDatalinkWriter::new();
        w.raw(13, &[0x3C, 0x4E, 0xAD, 0xFA]).raw(14, &[0xCD, 0x6B, 0x78, 0x4E]).raw(15, &[0x1B, 0xC4]);
        let bytes = w.finish();
        assert_eq!(&bytes[bytes.len() - 2..], &[0x2D, 0xC4]);
        assert!(UasDatalinkSet::parse(&bytes).unwrap().checksum().is_valid());
    }

    #[test]
    fn quantity_needs_a_numeric_tag() {
        assert_eq!(UasDatalinkWriter::new().quantity(3, 1.0).err(), Some(EncodeError::NotAQuantity(3)));
    }
}
