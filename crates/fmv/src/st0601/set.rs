//! A parsed ST 0601 packet: the raw bytes, the item spans and the checksum verdict.

use std::ops::Range;

use crate::error::KlvError;
use crate::klv::checksum::running_sum16;
use crate::klv::key::UniversalKey;
use crate::klv::packet::KlvPacket;
use crate::klv::{LocalItem, ber};
use crate::reader::Reader;
use crate::st0102::SecuritySet;
use crate::st0601::tags::{self, TagInfo, tag_info};
use crate::st0601::value::{self, Value, ValueError};
use crate::time::PrecisionTime;

/// Whether a packet's checksum (tag 1, which must be the last item) matches its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumStatus {
    /// The checksum matches.
    Valid(u16),
    /// The checksum does not match: the standard says to discard the packet; policy decides.
    Mismatch {
        /// The checksum in the packet.
        stored: u16,
        /// The checksum computed over the packet.
        computed: u16,
    },
    /// The last item is not a 2-byte tag 1.
    Missing,
}

impl ChecksumStatus {
    /// Whether the checksum is present and matches.
    pub fn is_valid(self) -> bool {
        matches!(self, ChecksumStatus::Valid(_))
    }
}

/// A position on the WGS-84 ellipsoid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    /// Latitude, degrees.
    pub latitude: f64,
    /// Longitude, degrees.
    pub longitude: f64,
    /// Altitude or elevation (MSL), metres, when present.
    pub altitude: Option<f64>,
}

/// One item with what the tag table says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedItem<'a> {
    /// The tag, its name and format.
    pub info: TagInfo,
    /// The raw value bytes.
    pub raw: &'a [u8],
    /// The typed value, or why the bytes do not fit the tag's format.
    pub value: Result<Value, ValueError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Span {
    tag: u32,
    range: Range<usize>,
}

/// A parsed ST 0601 UAS Datalink Local Set packet. It owns a copy of the packet's bytes; every item is kept,
/// whatever its tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UasDatalinkSet {
    raw: Vec<u8>,
    items: Vec<Span>,
    checksum: ChecksumStatus,
}

impl UasDatalinkSet {
    /// Parses exactly one ST 0601 packet (key, length, items); trailing bytes are an error. A bad checksum is
    /// not an error here: it is recorded in [`UasDatalinkSet::checksum`] for the caller's policy.
    pub fn parse(bytes: &[u8]) -> Result<Self, KlvError> {
        Self::from_packet(&KlvPacket::parse(bytes)?)
    }

    /// Parses the items of a KLV packet whose key is the UAS Datalink key.
    pub fn from_packet(packet: &KlvPacket<'_>) -> Result<Self, KlvError> {
        if !packet.key.matches(&UniversalKey::UAS_DATALINK) {
            return Err(KlvError::WrongKey("the ST 0601 UAS Datalink Local Set key"));
        }
        let header = packet.raw.len().saturating_sub(packet.value.len());
        let mut r = Reader::new(packet.value);
        let mut items = Vec::with_capacity(packet.value.len() / 3);
        while !r.is_empty() {
            let tag = ber::read_tag(&mut r)?;
            let value = ber::read_value(&mut r)?;
            let end = header + packet.value.len() - r.remaining();
            items.push(Span { tag, range: end - value.len()..end });
        }
        let checksum = match items.last() {
            Some(Span { tag: tags::tag::CHECKSUM, range }) if range.len() == 2 => {
                let stored = packet
                    .raw
                    .get(range.clone())
                    .map_or(0, |b| b.iter().fold(0, |a, x| a << 8 | u16::from(*x)));
                let computed = running_sum16(packet.raw.get(..range.start).unwrap_or(&[]));
                if stored == computed {
                    ChecksumStatus::Valid(stored)
                } else {
                    ChecksumStatus::Mismatch { stored, computed }
                }
            }
            Some(Span { tag: tags::tag::CHECKSUM, range }) => {
                return Err(KlvError::BadChecksumLength(range.len()));
            }
            _ => ChecksumStatus::Missing,
        };
        Ok(Self { raw: packet.raw.to_vec(), items, checksum })
    }

    /// The checksum verdict.
    pub fn checksum(&self) -> ChecksumStatus {
        self.checksum
    }

    /// The whole packet as received (key, length, items).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// Every item, in packet order, raw.
    pub fn items(&self) -> impl Iterator<Item = LocalItem<'_>> {
        self.items
            .iter()
            .map(|s| LocalItem { tag: s.tag, value: self.raw.get(s.range.clone()).unwrap_or(&[]) })
    }

    /// Every item with its name and typed value.
    pub fn decoded(&self) -> impl Iterator<Item = DecodedItem<'_>> {
        self.items().map(|item| {
            let info = tag_info(item.tag);
            DecodedItem { info, raw: item.value, value: value::decode(info.format, item.value) }
        })
    }

    /// The raw value of the first item with `tag`.
    pub fn raw(&self, tag: u32) -> Option<&[u8]> {
        self.items().find(|i| i.tag == tag).map(|i| i.value)
    }

    /// The typed value of the first item with `tag`; `None` when absent.
    pub fn value(&self, tag: u32) -> Option<Result<Value, ValueError>> {
        self.raw(tag).map(|bytes| value::decode(tag_info(tag).format, bytes))
    }

    /// A numeric value in its unit, when present and well-formed.
    pub fn quantity(&self, tag: u32) -> Option<f64> {
        match self.value(tag)? {
            Ok(Value::Quantity { value, .. }) => Some(value),
            _ => None,
        }
    }

    /// Tag 2, the precision time stamp.
    pub fn precision_time(&self) -> Option<PrecisionTime> {
        match self.value(tags::tag::PRECISION_TIME_STAMP)? {
            Ok(Value::Time(t)) => Some(t),
            _ => None,
        }
    }

    /// Tag 3, the mission id.
    pub fn mission_id(&self) -> Option<String> {
        match self.value(tags::tag::MISSION_ID)? {
            Ok(Value::Text(s)) => Some(s),
            _ => None,
        }
    }

    /// Tag 65, the ST 0601 version.
    pub fn version(&self) -> Option<u64> {
        match self.value(tags::tag::VERSION)? {
            Ok(Value::Unsigned(v, _)) => Some(v),
            _ => None,
        }
    }

    /// Tags 13, 14, 15: the sensor's position.
    pub fn sensor_position(&self) -> Option<GeoPoint> {
        self.point(tags::tag::SENSOR_LATITUDE, tags::tag::SENSOR_LONGITUDE, tags::tag::SENSOR_TRUE_ALTITUDE)
    }

    /// Tags 23, 24, 25: the frame centre.
    pub fn frame_center(&self) -> Option<GeoPoint> {
        self.point(
            tags::tag::FRAME_CENTER_LATITUDE,
            tags::tag::FRAME_CENTER_LONGITUDE,
            tags::tag::FRAME_CENTER_ELEVATION,
        )
    }

    /// Tags 5, 6, 7: platform heading, pitch and roll in degrees, each when present.
    pub fn platform_attitude(&self) -> (Option<f64>, Option<f64>, Option<f64>) {
        (
            self.quantity(tags::tag::PLATFORM_HEADING),
            self.quantity(tags::tag::PLATFORM_PITCH),
            self.quantity(tags::tag::PLATFORM_ROLL),
        )
    }

    /// Tag 48, the nested ST 0102 security set: `None` when absent.
    pub fn security(&self) -> Option<Result<SecuritySet, KlvError>> {
        self.raw(tags::tag::SECURITY_LOCAL_SET).map(SecuritySet::parse_nested)
    }

    fn point(&self, lat: u32, lon: u32, alt: u32) -> Option<GeoPoint> {
        Some(GeoPoint {
            latitude: self.quantity(lat)?,
            longitude: self.quantity(lon)?,
            altitude: self.quantity(alt),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST_PACKET: &str = "060E2B34020B01010E01030101000000140D043C4EADFA0E04CD6B784E0F021BC401022DC4";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn digest_packet() {
        let set = UasDatalinkSet::parse(&hex(DIGEST_PACKET)).unwrap();
        assert_eq!(set.checksum(), ChecksumStatus::Valid(0x2DC4));
        let p = set.sensor_position().unwrap();
        assert!((p.latitude - 42.40360).abs() < 1e-5, "{p:?}");
        assert!((p.longitude - -71.12840).abs() < 1e-5, "{p:?}");
        assert!((p.altitude.unwrap() - 1258.38).abs() < 0.01, "{p:?}");
        assert_eq!(set.items().count(), 4);
    }

    #[test]
    fn flipped_bit_is_a_mismatch() {
        let mut bytes = hex(DIGEST_PACKET);
        bytes[20] ^= 1;
        let set = UasDatalinkSet::parse(&bytes).unwrap();
        assert!(matches!(set.checksum(), ChecksumStatus::Mismatch { stored: 0x2DC4, .. }));
    }

    #[test]
    fn missing_checksum() {
        let set = UasDatalinkSet::parse(&hex("060E2B34020B01010E0103010100000003410106")).unwrap();
        assert_eq!(set.checksum(), ChecksumStatus::Missing);
        assert_eq!(set.version(), Some(6));
        // A length that runs past the end of the packet is an error, not a guess.
        assert!(UasDatalinkSet::parse(&hex("060E2B34020B01010E0103010100000003410206")).is_err());
    }

    #[test]
    fn wrong_key() {
        let mut bytes = hex(DIGEST_PACKET);
        bytes[10] = 0x7F;
        assert!(matches!(UasDatalinkSet::parse(&bytes), Err(KlvError::WrongKey(_))));
    }
}
