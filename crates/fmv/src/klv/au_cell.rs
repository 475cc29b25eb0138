//! Metadata access-unit cells (ISO/IEC 13818-1 2.12.4): the 5-byte header that prefixes each KLV payload in
//! synchronous carriage (stream_type 0x15): service id, sequence number, flags, 16-bit cell data length.

use crate::error::KlvError;
use crate::klv::key::SMPTE_PREFIX;
use crate::reader::Reader;

/// One metadata AU cell, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuCell<'a> {
    /// metadata_service_id.
    pub service_id: u8,
    /// sequence_number (wraps at 256).
    pub sequence_number: u8,
    /// cell_fragment_indication: 0b11 a complete AU, 0b10 first, 0b00 middle, 0b01 last fragment.
    pub fragmentation: u8,
    /// decoder_config_flag.
    pub decoder_config: bool,
    /// random_access_indicator.
    pub random_access: bool,
    /// The cell's data: KLV bytes.
    pub data: &'a [u8],
}

/// Whether a synchronous-metadata PES payload starts with AU cells rather than bare KLV. Bare KLV starts with
/// `06 0E 2B 34`; an AU cell header cannot, because its flags byte has the reserved low nibble `1111`.
pub fn has_au_cells(payload: &[u8]) -> bool {
    !payload.starts_with(&SMPTE_PREFIX)
}

/// Parses the AU cells filling a PES payload.
pub fn au_cells(payload: &[u8]) -> Result<Vec<AuCell<'_>>, KlvError> {
    let mut r = Reader::new(payload);
    let mut cells = Vec::new();
    while !r.is_empty() {
        let service_id = r.u8().ok_or(KlvError::BadAuCell("truncated header"))?;
        let sequence_number = r.u8().ok_or(KlvError::BadAuCell("truncated header"))?;
        let flags = r.u8().ok_or(KlvError::BadAuCell("truncated header"))?;
        let length = r.u16().ok_or(KlvError::BadAuCell("truncated header"))?;
        let data = r.take(usize::from(length)).ok_or(KlvError::BadAuCell("cell data runs past the end"))?;
        cells.push(AuCell {
            service_id,
            sequence_number,
            fragmentation: flags >> 6,
            decoder_config: flags & 0x20 != 0,
            random_access: flags & 0x10 != 0,
            data,
        });
    }
    Ok(cells)
}

/// Appends one complete AU cell (fragmentation 0b11, random access set) carrying `data` (at most 65535 bytes;
/// longer data is cut there, so callers split first).
pub fn write_au_cell(service_id: u8, sequence_number: u8, data: &[u8], out: &mut Vec<u8>) {
    let data = data.get(..usize::from(u16::MAX)).unwrap_or(data);
    out.push(service_id);
    out.push(sequence_number);
    out.push(0xDF); // 11 complete cell, 0 no decoder config, 1 random access, 1111 reserved
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut out = Vec::new();
        write_au_cell(0, 7, &SMPTE_PREFIX, &mut out);
        assert!(has_au_cells(&out));
        let cells = au_cells(&out).unwrap();
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].sequence_number, 7);
        assert_eq!(cells[0].fragmentation, 0b11);
        assert!(cells[0].random_access);
        assert!(!cells[0].decoder_config);
        assert_eq!(cells[0].data, &SMPTE_PREFIX);
    }

    #[test]
    fn cell_past_the_end() {
        assert!(au_cells(&[0, 0, 0xDF, 0, 9, 1]).is_err());
    }
}
