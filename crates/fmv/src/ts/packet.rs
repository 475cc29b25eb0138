//! One 188-byte MPEG-TS packet: header, adaptation field (with PCR), payload. Borrowed, parsed strictly.

use std::fmt;

use crate::error::TsError;
use crate::reader::Reader;
use crate::time::Pcr;

/// Bytes in a transport stream packet. Do not change: ISO/IEC 13818-1.
pub const PACKET_SIZE: usize = 188;
/// The first byte of every packet. Do not change: ISO/IEC 13818-1.
pub const SYNC_BYTE: u8 = 0x47;

/// A 13-bit packet identifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(u16);

impl Pid {
    /// The PAT's PID.
    pub const PAT: Pid = Pid(0);
    /// Null (stuffing) packets.
    pub const NULL: Pid = Pid(0x1FFF);
    /// The largest PID.
    pub const MAX: u16 = 0x1FFF;

    /// A PID, or `None` above 0x1FFF.
    pub const fn new(value: u16) -> Option<Self> {
        if value <= Self::MAX { Some(Pid(value)) } else { None }
    }

    /// The 13 low bits of `value` as a PID.
    pub const fn from_low_bits(value: u16) -> Self {
        Pid(value & Self::MAX)
    }

    /// The PID's value.
    pub const fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid({:#06x})", self.0)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// The 4-byte packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// transport_error_indicator: the link layer flagged the packet as corrupt.
    pub transport_error: bool,
    /// payload_unit_start_indicator.
    pub unit_start: bool,
    /// transport_priority.
    pub priority: bool,
    /// PID.
    pub pid: Pid,
    /// transport_scrambling_control (0 = clear).
    pub scrambling: u8,
    /// An adaptation field is present.
    pub has_adaptation: bool,
    /// A payload is present.
    pub has_payload: bool,
    /// continuity_counter.
    pub continuity_counter: u8,
}

/// The parts of the adaptation field this crate uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdaptationField {
    /// discontinuity_indicator: the continuity counter (and/or the PCR) may jump here.
    pub discontinuity: bool,
    /// random_access_indicator.
    pub random_access: bool,
    /// elementary_stream_priority_indicator.
    pub es_priority: bool,
    /// The PCR, when present.
    pub pcr: Option<Pcr>,
    /// The OPCR, when present.
    pub opcr: Option<Pcr>,
    /// splice_countdown, when present.
    pub splice_countdown: Option<i8>,
}

/// A parsed packet borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The header.
    pub header: Header,
    /// The adaptation field, when present (a zero-length one parses as the default).
    pub adaptation: Option<AdaptationField>,
    /// The payload (empty when the packet carries none).
    pub payload: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Parses a packet. `bytes` must be exactly 188 bytes starting with 0x47.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TsError> {
        if bytes.len() != PACKET_SIZE {
            return Err(TsError::BadLength(bytes.len()));
        }
        let mut r = Reader::new(bytes);
        let header = parse_header(&mut r)?;
        if !header.has_adaptation && !header.has_payload {
            return Err(TsError::ReservedAdaptationControl);
        }
        let adaptation = if header.has_adaptation {
            let length = r.u8().ok_or(TsError::AdaptationFieldTooLong(0))?;
            // With a payload at least one payload byte must remain (<= 182); without, the field fills the packet.
            let limit = if header.has_payload { 182 } else { 183 };
            if usize::from(length) > limit {
                return Err(TsError::AdaptationFieldTooLong(length));
            }
            let mut field = r.sub(usize::from(length)).ok_or(TsError::AdaptationFieldTooLong(length))?;
            Some(parse_adaptation(&mut field)?)
        } else {
            None
        };
        let payload = if header.has_payload { r.rest() } else { &[] };
        Ok(Packet { header, adaptation, payload })
    }

    /// The PCR, when the packet carries one.
    pub fn pcr(&self) -> Option<Pcr> {
        self.adaptation.and_then(|a| a.pcr)
    }

    /// Whether the adaptation field signals a discontinuity.
    pub fn discontinuity(&self) -> bool {
        self.adaptation.is_some_and(|a| a.discontinuity)
    }
}

fn parse_header(r: &mut Reader<'_>) -> Result<Header, TsError> {
    let [sync, b1, b2, b3] = r.array::<4>().ok_or(TsError::BadLength(0))?;
    if sync != SYNC_BYTE {
        return Err(TsError::BadSync(sync));
    }
    Ok(Header {
        transport_error: b1 & 0x80 != 0,
        unit_start: b1 & 0x40 != 0,
        priority: b1 & 0x20 != 0,
        pid: Pid::from_low_bits(u16::from_be_bytes([b1, b2])),
        scrambling: b3 >> 6,
        has_adaptation: b3 & 0x20 != 0,
        has_payload: b3 & 0x10 != 0,
        continuity_counter: b3 & 0x0F,
    })
}

fn parse_adaptation(r: &mut Reader<'_>) -> Result<AdaptationField, TsError> {
    let Some(flags) = r.u8() else {
        return Ok(AdaptationField::default());
    };
    let mut field = AdaptationField {
        discontinuity: flags & 0x80 != 0,
        random_access: flags & 0x40 != 0,
        es_priority: flags & 0x20 != 0,
        ..AdaptationField::default()
    };
    if flags & 0x10 != 0 {
        field.pcr = Some(read_pcr(r)?);
    }
    if flags & 0x08 != 0 {
        field.opcr = Some(read_pcr(r)?);
    }
    if flags & 0x04 != 0 {
        field.splice_countdown = Some(r.u8().ok_or(TsError::AdaptationFieldTruncated)? as i8);
    }
    // Private data and extensions follow; nothing here needs them.
    Ok(field)
}

fn read_pcr(r: &mut Reader<'_>) -> Result<Pcr, TsError> {
    let b = r.array::<6>().ok_or(TsError::AdaptationFieldTruncated)?;
    let raw = b.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
    Ok(Pcr { base: raw >> 15, extension: (raw & 0x1FF) as u16 })
}

/// Writes a PCR's 6 bytes (33-bit base, 6 reserved bits set, 9-bit extension).
pub(crate) fn write_pcr(pcr: Pcr, out: &mut Vec<u8>) {
    let raw = ((pcr.base & 0x1_FFFF_FFFF) << 15) | (0x3F << 9) | u64::from(pcr.extension & 0x1FF);
    out.extend_from_slice(raw.to_be_bytes().get(2..).unwrap_or(&[]));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(b1: u8, b2: u8, b3: u8, rest: &[u8]) -> Vec<u8> {
        let mut p = vec![SYNC_BYTE, b1, b2, b3];
        p.extend_from_slice(rest);
        p.resize(PACKET_SIZE, 0xFF);
        p
    }

    #[test]
    fn header_fields() {
        let bytes = packet(0x41, 0x01, 0x17, &[]);
        let p = Packet::parse(&bytes).unwrap();
        assert!(p.header.unit_start);
        assert_eq!(p.header.pid, Pid::new(0x101).unwrap());
        assert_eq!(p.header.continuity_counter, 7);
        assert_eq!(p.payload.len(), 184);
        assert!(p.adaptation.is_none());
    }

    #[test]
    fn pcr_round_trip() {
        let pcr = Pcr { base: 0x1_2345_6789, extension: 299 };
        let mut af = vec![7, 0x10];
        write_pcr(pcr, &mut af);
        let bytes = packet(0x01, 0x00, 0x30, &af);
        let p = Packet::parse(&bytes).unwrap();
        assert_eq!(p.pcr(), Some(pcr));
        assert_eq!(p.payload.len(), 184 - 8);
    }

    #[test]
    fn malformed() {
        assert_eq!(Packet::parse(&[0x47; 10]), Err(TsError::BadLength(10)));
        assert_eq!(Packet::parse(&packet(0, 0, 0x10, &[])[..]).map(|_| ()), Ok(()));
        let mut wrong = packet(0, 0, 0x10, &[]);
        wrong[0] = 0x48;
        assert_eq!(Packet::parse(&wrong), Err(TsError::BadSync(0x48)));
        assert_eq!(Packet::parse(&packet(0, 0, 0x30, &[183])), Err(TsError::AdaptationFieldTooLong(183)));
        assert_eq!(Packet::parse(&packet(0, 0, 0x00, &[])), Err(TsError::ReservedAdaptationControl));
        // PCR flag set but the field is too short to hold it.
        assert_eq!(
            Packet::parse(&packet(0, 0, 0x30, &[3, 0x10, 0, 0])),
            Err(TsError::AdaptationFieldTruncated)
        );
    }
}
