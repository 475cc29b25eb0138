//! PAT and PMT: parsing (CRC-32 checked first, every loop bounded by its declared length) and encoding, and how
//! a PMT entry says an elementary stream carries KLV.

use crate::crc::crc32_mpeg2;
use crate::error::PsiError;
use crate::reader::Reader;
use crate::ts::packet::Pid;
use crate::ts::section::MAX_PSI_SECTION;

/// table_id of the PAT. Do not change: ISO/IEC 13818-1.
pub const TABLE_PAT: u8 = 0x00;
/// table_id of the PMT. Do not change: ISO/IEC 13818-1.
pub const TABLE_PMT: u8 = 0x02;
/// stream_type of PES private data (asynchronous KLV). Do not change.
pub const STREAM_TYPE_PRIVATE_PES: u8 = 0x06;
/// stream_type of metadata carried in PES (synchronous KLV). Do not change.
pub const STREAM_TYPE_METADATA_PES: u8 = 0x15;
/// registration_descriptor tag. Do not change.
pub const DESCRIPTOR_REGISTRATION: u8 = 0x05;
/// metadata_descriptor tag. Do not change.
pub const DESCRIPTOR_METADATA: u8 = 0x26;
/// metadata_STD_descriptor tag. Do not change.
pub const DESCRIPTOR_METADATA_STD: u8 = 0x27;
/// The format identifier of SMPTE KLV. Do not change.
pub const FORMAT_KLVA: [u8; 4] = *b"KLVA";

/// A long-form PSI section whose CRC has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section<'a> {
    /// table_id.
    pub table_id: u8,
    /// transport_stream_id (PAT) or program_number (PMT).
    pub table_id_extension: u16,
    /// version_number.
    pub version: u8,
    /// current_next_indicator.
    pub current: bool,
    /// section_number.
    pub section_number: u8,
    /// last_section_number.
    pub last_section_number: u8,
    /// The bytes between the header and the CRC.
    pub body: &'a [u8],
}

impl<'a> Section<'a> {
    /// Parses a complete long-form section: checks its length and CRC-32.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PsiError> {
        let mut r = Reader::new(bytes);
        let table_id = r.u8().ok_or(PsiError::Truncated("table_id"))?;
        let flags_len = r.u16().ok_or(PsiError::Truncated("section_length"))?;
        if flags_len & 0x8000 == 0 {
            return Err(PsiError::ShortSyntax);
        }
        let length = usize::from(flags_len & 0x0FFF);
        if length + 3 > MAX_PSI_SECTION {
            return Err(PsiError::TooLong(length));
        }
        if length < 9 {
            return Err(PsiError::Truncated("section header"));
        }
        let mut section = r.sub(length).ok_or(PsiError::Truncated("section body"))?;
        if !r.is_empty() {
            return Err(PsiError::Trailing("section"));
        }
        let crc_covered = bytes.get(..3 + length - 4).ok_or(PsiError::Truncated("section body"))?;
        let stored = u32::from_be_bytes(
            bytes
                .get(3 + length - 4..3 + length)
                .and_then(|b| b.try_into().ok())
                .ok_or(PsiError::Truncated("CRC"))?,
        );
        let computed = crc32_mpeg2(crc_covered);
        if stored != computed {
            return Err(PsiError::CrcMismatch { stored, computed });
        }
        let table_id_extension = section.u16().ok_or(PsiError::Truncated("table_id_extension"))?;
        let version_byte = section.u8().ok_or(PsiError::Truncated("version"))?;
        let section_number = section.u8().ok_or(PsiError::Truncated("section_number"))?;
        let last_section_number = section.u8().ok_or(PsiError::Truncated("last_section_number"))?;
        let body = section.take(section.remaining().saturating_sub(4)).ok_or(PsiError::Truncated("body"))?;
        Ok(Section {
            table_id,
            table_id_extension,
            version: (version_byte >> 1) & 0x1F,
            current: version_byte & 1 != 0,
            section_number,
            last_section_number,
            body,
        })
    }

    fn expect(self, table_id: u8) -> Result<Self, PsiError> {
        if self.table_id == table_id {
            Ok(self)
        } else {
            Err(PsiError::UnexpectedTable { expected: table_id, found: self.table_id })
        }
    }
}

/// Writes a long-form section with its CRC.
fn write_section(table_id: u8, extension: u16, version: u8, body: &[u8]) -> Vec<u8> {
    let length = 5 + body.len() + 4;
    let mut out = Vec::with_capacity(3 + length);
    out.push(table_id);
    out.extend_from_slice(&(0xB000 | (length as u16 & 0x0FFF)).to_be_bytes());
    out.extend_from_slice(&extension.to_be_bytes());
    out.push(0xC0 | ((version & 0x1F) << 1) | 1);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(body);
    let crc = crc32_mpeg2(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// One PAT entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PatEntry {
    /// program_number (0 names the network PID).
    pub program_number: u16,
    /// The PMT's PID (or the network PID for program 0).
    pub pid: Pid,
}

/// A program association table (one section).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pat {
    /// transport_stream_id.
    pub transport_stream_id: u16,
    /// version_number.
    pub version: u8,
    /// The programs, in table order.
    pub programs: Vec<PatEntry>,
}

impl Pat {
    /// Parses a PAT section (CRC checked).
    pub fn parse(bytes: &[u8]) -> Result<Self, PsiError> {
        let section = Section::parse(bytes)?.expect(TABLE_PAT)?;
        let mut r = Reader::new(section.body);
        let mut programs = Vec::with_capacity(section.body.len() / 4);
        while !r.is_empty() {
            let program_number = r.u16().ok_or(PsiError::Trailing("program loop"))?;
            let pid = r.u16().ok_or(PsiError::Trailing("program loop"))?;
            programs.push(PatEntry { program_number, pid: Pid::from_low_bits(pid) });
        }
        Ok(Pat { transport_stream_id: section.table_id_extension, version: section.version, programs })
    }

    /// The section bytes, CRC included.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.programs.len() * 4);
        for p in &self.programs {
            body.extend_from_slice(&p.program_number.to_be_bytes());
            body.extend_from_slice(&(0xE000 | p.pid.value()).to_be_bytes());
        }
        write_section(TABLE_PAT, self.transport_stream_id, self.version, &body)
    }
}

/// A descriptor: tag and raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// descriptor_tag.
    pub tag: u8,
    /// The descriptor's bytes after its length.
    pub data: Vec<u8>,
}

impl Descriptor {
    /// A registration descriptor with `format_identifier`.
    pub fn registration(format_identifier: [u8; 4]) -> Self {
        Descriptor { tag: DESCRIPTOR_REGISTRATION, data: format_identifier.to_vec() }
    }

    /// A metadata_descriptor for KLV (ISO/IEC 13818-1 2.6.60, as MISB ST 1402 uses it): application format
    /// 0x0100, format 0xFF with identifier `KLVA`, service id 0, no decoder config.
    pub fn klv_metadata() -> Self {
        let mut data = vec![0x01, 0x00, 0xFF];
        data.extend_from_slice(&FORMAT_KLVA);
        data.extend_from_slice(&[0x00, 0x0F]);
        Descriptor { tag: DESCRIPTOR_METADATA, data }
    }

    /// A metadata_STD_descriptor with the buffer sizes MISB ST 1402 suggests.
    pub fn klv_metadata_std() -> Self {
        Descriptor {
            tag: DESCRIPTOR_METADATA_STD,
            data: vec![0xC0, 0x00, 0x00, 0xC0, 0x00, 0x01, 0xC0, 0x00, 0x00],
        }
    }

    /// Whether this is a registration descriptor for `format`.
    pub fn is_registration(&self, format: [u8; 4]) -> bool {
        self.tag == DESCRIPTOR_REGISTRATION && self.data.get(..4) == Some(&format[..])
    }

    /// Whether this is a metadata_descriptor whose metadata_format_identifier is `KLVA`.
    pub fn is_klv_metadata(&self) -> bool {
        if self.tag != DESCRIPTOR_METADATA {
            return false;
        }
        let mut r = Reader::new(&self.data);
        let Some(application_format) = r.u16() else { return false };
        if application_format == 0xFFFF && r.take(4).is_none() {
            return false;
        }
        match r.u8() {
            Some(0xFF) => r.take(4) == Some(&FORMAT_KLVA[..]),
            _ => false,
        }
    }
}

fn read_descriptors(r: &mut Reader<'_>, length: usize) -> Result<Vec<Descriptor>, PsiError> {
    let mut loop_reader = r.sub(length).ok_or(PsiError::Truncated("descriptor loop"))?;
    let mut out = Vec::new();
    while !loop_reader.is_empty() {
        let tag = loop_reader.u8().ok_or(PsiError::Trailing("descriptor loop"))?;
        let len = loop_reader.u8().ok_or(PsiError::Trailing("descriptor loop"))?;
        let data = loop_reader.take(usize::from(len)).ok_or(PsiError::Truncated("descriptor"))?;
        out.push(Descriptor { tag, data: data.to_vec() });
    }
    Ok(out)
}

fn write_descriptors(descriptors: &[Descriptor], out: &mut Vec<u8>) {
    for d in descriptors {
        let data = d.data.get(..255).unwrap_or(&d.data);
        out.push(d.tag);
        out.push(data.len() as u8);
        out.extend_from_slice(data);
    }
}

/// How KLV is carried in an elementary stream (MISB ST 1402 / the digest's three shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlvCarriage {
    /// stream_type 0x06 with a `KLVA` registration descriptor: bare KLV in PES (stream_id 0xBD, or 0xFC with a
    /// PTS as FFmpeg writes it).
    Asynchronous,
    /// stream_type 0x15 with a `KLVA` metadata descriptor (or registration): PES stream_id 0xFC with a PTS, each
    /// KLV payload in a metadata AU cell (bare KLV is accepted too).
    Synchronous,
}

/// One elementary stream of a PMT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ElementaryStream {
    /// stream_type.
    pub stream_type: u8,
    /// elementary_PID.
    pub pid: Pid,
    /// The ES_info descriptors.
    pub descriptors: Vec<Descriptor>,
}

impl ElementaryStream {
    /// Whether and how this stream carries KLV.
    pub fn klv_carriage(&self) -> Option<KlvCarriage> {
        let registered = self.descriptors.iter().any(|d| d.is_registration(FORMAT_KLVA));
        let metadata = self.descriptors.iter().any(Descriptor::is_klv_metadata);
        match self.stream_type {
            STREAM_TYPE_METADATA_PES if registered || metadata => Some(KlvCarriage::Synchronous),
            STREAM_TYPE_PRIVATE_PES if registered => Some(KlvCarriage::Asynchronous),
            _ => None,
        }
    }

    /// A short name of the stream type, e.g. `H.264 video`.
    pub fn kind(&self) -> &'static str {
        if self.klv_carriage().is_some() {
            return "KLV metadata";
        }
        match self.stream_type {
            0x01 | 0x02 => "MPEG-2 video",
            0x03 | 0x04 => "MPEG audio",
            0x0F => "AAC audio",
            0x1B => "H.264 video",
            0x24 => "H.265 video",
            0x06 => "private data",
            0x15 => "metadata",
            _ => "other",
        }
    }
}

/// A program map table (one section).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pmt {
    /// program_number.
    pub program_number: u16,
    /// version_number.
    pub version: u8,
    /// PCR_PID.
    pub pcr_pid: Pid,
    /// The program_info descriptors.
    pub descriptors: Vec<Descriptor>,
    /// The elementary streams, in table order.
    pub streams: Vec<ElementaryStream>,
}

impl Pmt {
    /// Parses a PMT section (CRC checked).
    pub fn parse(bytes: &[u8]) -> Result<Self, PsiError> {
        let section = Section::parse(bytes)?.expect(TABLE_PMT)?;
        let mut r = Reader::new(section.body);
        let pcr_pid = Pid::from_low_bits(r.u16().ok_or(PsiError::Truncated("PCR_PID"))?);
        let info_length = usize::from(r.u16().ok_or(PsiError::Truncated("program_info_length"))? & 0x0FFF);
        let descriptors = read_descriptors(&mut r, info_length)?;
        let mut streams = Vec::new();
        while !r.is_empty() {
            let stream_type = r.u8().ok_or(PsiError::Truncated("stream_type"))?;
            let pid = Pid::from_low_bits(r.u16().ok_or(PsiError::Truncated("elementary_PID"))?);
            let es_info_length = usize::from(r.u16().ok_or(PsiError::Truncated("ES_info_length"))? & 0x0FFF);
            let descriptors = read_descriptors(&mut r, es_info_length)?;
            streams.push(ElementaryStream { stream_type, pid, descriptors });
        }
        Ok(Pmt {
            program_number: section.table_id_extension,
            version: section.version,
            pcr_pid,
            descriptors,
            streams,
        })
    }

    /// The section bytes, CRC included.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&(0xE000 | self.pcr_pid.value()).to_be_bytes());
        let mut info = Vec::new();
        write_descriptors(&self.descriptors, &mut info);
        body.extend_from_slice(&(0xF000 | (info.len() as u16 & 0x0FFF)).to_be_bytes());
        body.extend_from_slice(&info);
        for s in &self.streams {
            body.push(s.stream_type);
            body.extend_from_slice(&(0xE000 | s.pid.value()).to_be_bytes());
            let mut es_info = Vec::new();
            write_descriptors(&s.descriptors, &mut es_info);
            body.extend_from_slice(&(0xF000 | (es_info.len() as u16 & 0x0FFF)).to_be_bytes());
            body.extend_from_slice(&es_info);
        }
        write_section(TABLE_PMT, self.program_number, self.version, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(v: u16) -> Pid {
        Pid::new(v).unwrap()
    }

    #[test]
    fn pat_round_trip_and_crc() {
        let pat = Pat {
            transport_stream_id: 1,
            version: 3,
            programs: vec![PatEntry { program_number: 1, pid: pid(0x1000) }],
        };
        let bytes = pat.encode();
        assert_eq!(Pat::parse(&bytes).unwrap(), pat);
        let mut corrupt = bytes.clone();
        corrupt[9] ^= 0x01;
        assert!(matches!(Pat::parse(&corrupt), Err(PsiError::CrcMismatch { .. })));
        assert!(matches!(Pmt::parse(&bytes), Err(PsiError::UnexpectedTable { expected: 2, found: 0 })));
    }

    #[test]
    fn pmt_round_trip_and_klv_shapes() {
        let pmt = Pmt {
            program_number: 1,
            version: 0,
            pcr_pid: pid(0x100),
            descriptors: vec![],
            streams: vec![
                ElementaryStream { stream_type: 0x1B, pid: pid(0x100), descriptors: vec![] },
                ElementaryStream {
                    stream_type: 0x06,
                    pid: pid(0x101),
                    descriptors: vec![Descriptor::registration(FORMAT_KLVA)],
                },
                ElementaryStream {
                    stream_type: 0x15,
                    pid: pid(0x102),
                    descriptors: vec![Descriptor::klv_metadata(), Descriptor::klv_metadata_std()],
                },
                ElementaryStream { stream_type: 0x06, pid: pid(0x103), descriptors: vec![] },
            ],
        };
        let parsed = Pmt::parse(&pmt.encode()).unwrap();
        assert_eq!(parsed, pmt);
        let shapes: Vec<_> = parsed.streams.iter().map(ElementaryStream::klv_carriage).collect();
        assert_eq!(shapes, [None, Some(KlvCarriage::Asynchronous), Some(KlvCarriage::Synchronous), None]);
    }

    #[test]
    fn descriptor_loop_past_the_end() {
        let pmt =
            Pmt { program_number: 1, version: 0, pcr_pid: pid(0x100), descriptors: vec![], streams: vec![] };
        let mut bytes = pmt.encode();
        // Claim a 200-byte program_info loop and fix up the CRC: the loop bound must catch it.
        bytes[10] = 0xF0;
        bytes[11] = 200;
        let len = bytes.len();
        let crc = crc32_mpeg2(&bytes[..len - 4]);
        bytes[len - 4..].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(Pmt::parse(&bytes), Err(PsiError::Truncated("descriptor loop")));
    }
}
