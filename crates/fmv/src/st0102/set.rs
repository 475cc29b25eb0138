//! The ST 0102 security local set: raw items plus typed accessors for the fields that carry the marking.

use std::fmt;

use crate::error::KlvError;
use crate::klv::key::UniversalKey;
use crate::klv::packet::{KlvPacket, write_klv};
use crate::klv::{LocalItem, LocalSetWriter, local_items};
use crate::reader::be_uint;

/// ST 0102 tag numbers. Do not change: wire constants.
pub mod tag {
    #![allow(missing_docs)]
    pub const CLASSIFICATION: u32 = 1;
    pub const COUNTRY_CODING_METHOD: u32 = 2;
    pub const CLASSIFYING_COUNTRY: u32 = 3;
    pub const SCI_SHI: u32 = 4;
    pub const CAVEATS: u32 = 5;
    pub const RELEASING_INSTRUCTIONS: u32 = 6;
    pub const OBJECT_COUNTRY_CODING_METHOD: u32 = 12;
    pub const OBJECT_COUNTRY_CODES: u32 = 13;
    pub const VERSION: u32 = 22;
}

/// The ST 0102 name of `tag`.
pub fn security_tag_name(tag: u32) -> &'static str {
    match tag {
        1 => "Security Classification",
        2 => "Classifying Country and Releasing Instructions Country Coding Method",
        3 => "Classifying Country",
        4 => "Security-SCI/SHI Information",
        5 => "Caveats",
        6 => "Releasing Instructions",
        7 => "Classified By",
        8 => "Derived From",
        9 => "Classification Reason",
        10 => "Declassification Date",
        11 => "Classification and Marking System",
        12 => "Object Country Coding Method",
        13 => "Object Country Codes",
        14 => "Classification Comments",
        15 => "UMID Video",
        16 => "UMID Audio",
        17 => "UMID Data",
        18 => "UMID System",
        19 => "Stream ID",
        20 => "Transport Stream ID",
        21 => "Item Designator ID",
        22 => "Version",
        23 => "Classifying Country and Releasing Instructions Country Coding Method Version Date",
        24 => "Object Country Coding Method Version Date",
        _ => "Unknown",
    }
}

/// ST 0102 tag 1. Do not change the codes: wire constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Classification {
    /// 1.
    Unclassified = 1,
    /// 2.
    Restricted = 2,
    /// 3.
    Confidential = 3,
    /// 4.
    Secret = 4,
    /// 5.
    TopSecret = 5,
}

impl Classification {
    /// The classification of an ST 0102 code; `None` for codes the standard does not define.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            1 => Self::Unclassified,
            2 => Self::Restricted,
            3 => Self::Confidential,
            4 => Self::Secret,
            5 => Self::TopSecret,
            _ => return None,
        })
    }

    /// The ST 0102 code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The marking word, e.g. `TOP SECRET`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unclassified => "UNCLASSIFIED",
            Self::Restricted => "RESTRICTED",
            Self::Confidential => "CONFIDENTIAL",
            Self::Secret => "SECRET",
            Self::TopSecret => "TOP SECRET",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed ST 0102 security local set. Every item is kept, in order, whatever its tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecuritySet {
    items: Vec<(u32, Vec<u8>)>,
}

impl SecuritySet {
    /// Parses a set body as nested in ST 0601 tag 48 (no key, no checksum).
    pub fn parse_nested(body: &[u8]) -> Result<Self, KlvError> {
        let items = local_items(body)?.into_iter().map(|i| (i.tag, i.value.to_vec())).collect();
        Ok(Self { items })
    }

    /// Parses exactly one standalone set: the ST 0102 universal key, a BER length, the items.
    pub fn parse_standalone(bytes: &[u8]) -> Result<Self, KlvError> {
        Self::from_packet(&KlvPacket::parse(bytes)?)
    }

    /// Parses the items of a KLV packet whose key is the ST 0102 security set key.
    pub fn from_packet(packet: &KlvPacket<'_>) -> Result<Self, KlvError> {
        if !packet.key.matches(&UniversalKey::SECURITY) {
            return Err(KlvError::WrongKey("the ST 0102 security local set key"));
        }
        Self::parse_nested(packet.value)
    }

    /// A set with the mandatory marking fields: classification, coding method (1: ISO-3166 two-letter... see
    /// ST 0102), classifying country (e.g. `//NLD`), and version.
    pub fn new(
        classification: Classification,
        coding_method: u8,
        classifying_country: &str,
        version: u16,
    ) -> Self {
        let mut set = Self::default();
        set.set(tag::CLASSIFICATION, vec![classification.code()])
            .set(tag::COUNTRY_CODING_METHOD, vec![coding_method])
            .set(tag::CLASSIFYING_COUNTRY, classifying_country.as_bytes().to_vec())
            .set(tag::VERSION, version.to_be_bytes().to_vec());
        set
    }

    /// Sets (replaces, or appends) an item.
    pub fn set(&mut self, tag: u32, value: Vec<u8>) -> &mut Self {
        match self.items.iter_mut().find(|(t, _)| *t == tag) {
            Some(slot) => slot.1 = value,
            None => self.items.push((tag, value)),
        }
        self
    }

    /// Every item in order.
    pub fn items(&self) -> impl Iterator<Item = LocalItem<'_>> {
        self.items.iter().map(|(tag, value)| LocalItem { tag: *tag, value })
    }

    /// The raw value of the first item with `tag`.
    pub fn raw(&self, tag: u32) -> Option<&[u8]> {
        self.items.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_slice())
    }

    /// Tag 1; `None` when absent, not one byte, or an undefined code.
    pub fn classification(&self) -> Option<Classification> {
        match self.raw(tag::CLASSIFICATION)? {
            [code] => Classification::from_code(*code),
            _ => None,
        }
    }

    /// Tag 2, the country coding method of tags 3 and 6.
    pub fn country_coding_method(&self) -> Option<u8> {
        self.byte(tag::COUNTRY_CODING_METHOD)
    }

    /// Tag 3, e.g. `//USA`.
    pub fn classifying_country(&self) -> Option<&str> {
        self.text(tag::CLASSIFYING_COUNTRY)
    }

    /// Tag 4, SCI/SHI information.
    pub fn sci_shi(&self) -> Option<&str> {
        self.text(tag::SCI_SHI)
    }

    /// Tag 5, caveats.
    pub fn caveats(&self) -> Option<&str> {
        self.text(tag::CAVEATS)
    }

    /// Tag 6, releasing instructions: space-separated country codes, e.g. `CAN USA`.
    pub fn releasing_instructions(&self) -> Option<&str> {
        self.text(tag::RELEASING_INSTRUCTIONS)
    }

    /// Tag 12.
    pub fn object_country_coding_method(&self) -> Option<u8> {
        self.byte(tag::OBJECT_COUNTRY_CODING_METHOD)
    }

    /// Tag 13, decoded from UTF-16BE (`None` when absent or not valid UTF-16BE).
    pub fn object_country_codes(&self) -> Option<String> {
        let bytes = self.raw(tag::OBJECT_COUNTRY_CODES)?;
        if bytes.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> =
            bytes.chunks_exact(2).map(|c| c.iter().fold(0u16, |a, b| a << 8 | u16::from(*b))).collect();
        String::from_utf16(&units).ok()
    }

    /// Tag 22, the ST 0102 version.
    pub fn version(&self) -> Option<u64> {
        self.raw(tag::VERSION).and_then(be_uint)
    }

    /// The set body as nested in ST 0601 tag 48.
    pub fn encode_nested(&self) -> Vec<u8> {
        let mut w = LocalSetWriter::new();
        for (tag, value) in &self.items {
            w.item(*tag, value);
        }
        w.into_bytes()
    }

    /// The standalone universal set: key, BER length, items.
    pub fn encode_standalone(&self) -> Vec<u8> {
        let mut out = Vec::new();
        write_klv(&UniversalKey::SECURITY, &self.encode_nested(), &mut out);
        out
    }

    fn byte(&self, tag: u32) -> Option<u8> {
        match self.raw(tag)? {
            [b] => Some(*b),
            _ => None,
        }
    }

    fn text(&self, tag: u32) -> Option<&str> {
        std::str::from_utf8(self.raw(tag)?).ok()
    }
}

impl fmt::Display for SecuritySet {
    /// A one-line summary, e.g. `SECRET //USA rel CAN USA`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.classification() {
            Some(c) => write!(f, "{c}")?,
            None => f.write_str("(no valid classification)")?,
        }
        if let Some(country) = self.classifying_country() {
            write!(f, " {country}")?;
        }
        if let Some(sci) = self.sci_shi() {
            write!(f, " sci/shi {sci}")?;
        }
        if let Some(caveats) = self.caveats() {
            write!(f, " caveats {caveats}")?;
        }
        if let Some(rel) = self.releasing_instructions() {
            write!(f, " rel {rel}")?;
        }
        if let Some(objects) = self.object_country_codes() {
            write!(f, " objects {objects}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn klvdata_nested_set() {
        // Tag 48 of DynamicConstantMISMMSPacketData.bin.
        let body = [
            0x01, 0x01, 0x01, 0x02, 0x01, 0x07, 0x03, 0x05, b'/', b'/', b'U', b'S', b'A', 0x0C, 0x01, 0x07,
            0x0D, 0x06, 0x00, b'U', 0x00, b'S', 0x00, b'A', 0x16, 0x02, 0x00, 0x0A,
        ];
        let set = SecuritySet::parse_nested(&body).unwrap();
        assert_eq!(set.classification(), Some(Classification::Unclassified));
        assert_eq!(set.country_coding_method(), Some(7));
        assert_eq!(set.classifying_country(), Some("//USA"));
        assert_eq!(set.object_country_coding_method(), Some(7));
        assert_eq!(set.object_country_codes().as_deref(), Some("USA"));
        assert_eq!(set.version(), Some(10));
        assert_eq!(set.encode_nested(), body);
    }

    #[test]
    fn standalone_round_trip() {
        let mut set = SecuritySet::new(Classification::Secret, 6, "//NLD", 12);
        set.set(tag::RELEASING_INSTRUCTIONS, b"NLD USA".to_vec());
        let bytes = set.encode_standalone();
        assert_eq!(SecuritySet::parse_standalone(&bytes).unwrap(), set);
        assert_eq!(set.to_string(), "SECRET //NLD rel NLD USA");
        assert!(SecuritySet::parse_standalone(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn undefined_classification_is_none() {
        let set = SecuritySet::parse_nested(&[0x01, 0x01, 0x09]).unwrap();
        assert_eq!(set.classification(), None);
    }
}
