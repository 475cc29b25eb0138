//! PES packet headers (start code, stream_id, PES_packet_length, PTS/DTS) and a PES writer.

use crate::error::PesError;
use crate::reader::Reader;
use crate::time::Timestamp90k;

/// stream_id of private_stream_1 (asynchronous KLV per SMPTE RP 217). Do not change.
pub const STREAM_ID_PRIVATE_1: u8 = 0xBD;
/// stream_id of a metadata stream (synchronous KLV; FFmpeg's KLV). Do not change.
pub const STREAM_ID_METADATA: u8 = 0xFC;

/// A parsed PES header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeader {
    /// stream_id.
    pub stream_id: u8,
    /// PES_packet_length: bytes after this field, or 0 for "unbounded" (video only).
    pub packet_length: u16,
    /// PTS.
    pub pts: Option<Timestamp90k>,
    /// DTS.
    pub dts: Option<Timestamp90k>,
    /// Bytes from the start code to the payload.
    pub header_length: usize,
}

impl PesHeader {
    /// The whole PES packet's length when declared (6 + PES_packet_length).
    pub fn total_length(&self) -> Option<usize> {
        (self.packet_length != 0).then_some(6 + usize::from(self.packet_length))
    }
}

/// Whether `stream_id` has the optional PES header (flags, header length, PTS/DTS).
fn has_optional_header(stream_id: u8) -> bool {
    !matches!(stream_id, 0xBC | 0xBE | 0xBF | 0xF0 | 0xF1 | 0xF2 | 0xF8 | 0xFF)
}

/// Parses the PES header at the start of `bytes`. `Truncated` means more bytes are needed.
pub fn parse_header(bytes: &[u8]) -> Result<PesHeader, PesError> {
    let mut r = Reader::new(bytes);
    let prefix = r.take(3).ok_or(PesError::Truncated("start code"))?;
    if prefix != [0, 0, 1] {
        return Err(PesError::BadStartCode);
    }
    let stream_id = r.u8().ok_or(PesError::Truncated("stream_id"))?;
    let packet_length = r.u16().ok_or(PesError::Truncated("PES_packet_length"))?;
    if !has_optional_header(stream_id) {
        return Ok(PesHeader { stream_id, packet_length, pts: None, dts: None, header_length: 6 });
    }
    let _flags1 = r.u8().ok_or(PesError::Truncated("PES flags"))?;
    let flags2 = r.u8().ok_or(PesError::Truncated("PES flags"))?;
    let data_length = r.u8().ok_or(PesError::Truncated("PES_header_data_length"))?;
    let mut data = r.sub(usize::from(data_length)).ok_or(PesError::Truncated("PES header data"))?;
    let (pts, dts) = match flags2 >> 6 {
        0b10 => (Some(read_timestamp(&mut data)?), None),
        0b11 => (Some(read_timestamp(&mut data)?), Some(read_timestamp(&mut data)?)),
        _ => (None, None),
    };
    let header_length = 9 + usize::from(data_length);
    if packet_length != 0 && usize::from(packet_length) + 6 < header_length {
        return Err(PesError::Truncated("PES_packet_length shorter than its header"));
    }
    Ok(PesHeader { stream_id, packet_length, pts, dts, header_length })
}

fn read_timestamp(r: &mut Reader<'_>) -> Result<Timestamp90k, PesError> {
    let b = r.array::<5>().ok_or(PesError::Truncated("PTS/DTS"))?;
    let [b0, b1, b2, b3, b4] = b.map(u64::from);
    // Marker bits are not checked: producers get them wrong and they carry no information.
    Ok(Timestamp90k(((b0 >> 1) & 0x07) << 30 | b1 << 22 | (b2 >> 1) << 15 | b3 << 7 | b4 >> 1))
}

fn write_timestamp(prefix: u8, ts: Timestamp90k, out: &mut Vec<u8>) {
    let v = ts.0 & 0x1_FFFF_FFFF;
    out.push((prefix << 4) | (((v >> 30) as u8 & 0x07) << 1) | 1);
    out.push((v >> 22) as u8);
    out.push((((v >> 15) as u8) << 1) | 1);
    out.push((v >> 7) as u8);
    out.push(((v as u8) << 1) | 1);
}

/// Writes a PES packet. `PES_packet_length` is set when it fits in 16 bits, else 0 (allowed for video only).
pub fn write_pes(
    stream_id: u8,
    pts: Option<Timestamp90k>,
    dts: Option<Timestamp90k>,
    payload: &[u8],
) -> Vec<u8> {
    let mut header_data = Vec::with_capacity(10);
    let pts_dts_flags = match (pts, dts) {
        (Some(p), Some(d)) => {
            write_timestamp(0b0011, p, &mut header_data);
            write_timestamp(0b0001, d, &mut header_data);
            0b11
        }
        (Some(p), None) => {
            write_timestamp(0b0010, p, &mut header_data);
            0b10
        }
        _ => 0b00,
    };
    let after_length = 3 + header_data.len() + payload.len();
    let packet_length = u16::try_from(after_length).unwrap_or(0);
    let mut out = Vec::with_capacity(6 + after_length);
    out.extend_from_slice(&[0, 0, 1, stream_id]);
    out.extend_from_slice(&packet_length.to_be_bytes());
    // '10', not scrambled, no priority, data_alignment_indicator set (each PES starts a KLV packet), not copyright.
    out.push(0x84);
    out.push(pts_dts_flags << 6);
    out.push(header_data.len() as u8);
    out.extend_from_slice(&header_data);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let pes = write_pes(STREAM_ID_METADATA, Some(Timestamp90k(0x1_2345_6789)), None, b"klv");
        let h = parse_header(&pes).unwrap();
        assert_eq!(h.stream_id, STREAM_ID_METADATA);
        assert_eq!(h.pts, Some(Timestamp90k(0x1_2345_6789)));
        assert_eq!(h.total_length(), Some(pes.len()));
        assert_eq!(&pes[h.header_length..], b"klv");
        let both = write_pes(0xE0, Some(Timestamp90k(9000)), Some(Timestamp90k(6000)), &[]);
        let h = parse_header(&both).unwrap();
        assert_eq!((h.pts, h.dts), (Some(Timestamp90k(9000)), Some(Timestamp90k(6000))));
    }

    #[test]
    fn malformed() {
        assert_eq!(parse_header(&[0, 0, 2, 0xBD, 0, 0]), Err(PesError::BadStartCode));
        assert_eq!(
            parse_header(&[0, 0, 1, 0xBD, 0, 3, 0x80, 0x80, 10]),
            Err(PesError::Truncated("PES header data"))
        );
        assert_eq!(parse_header(&[0, 0, 1]), Err(PesError::Truncated("stream_id")));
        assert_eq!(parse_header(&[0, 0, 1, 0xBE, 0, 4]).unwrap().header_length, 6);
    }
}
