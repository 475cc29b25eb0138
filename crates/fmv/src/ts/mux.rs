//! Builds transport streams: a [`Packetizer`] cuts PES packets and PSI sections into 188-byte packets (continuity
//! counters, PCR, stuffing through the adaptation field); a [`Muxer`] writes a KLV metadata program in any of the
//! three carriage shapes. Tests, tools and fuzz seeds use it; the relay never re-muxes.

use crate::klv::au_cell::write_au_cell;
use crate::time::{Pcr, Timestamp90k};
use crate::ts::packet::{PACKET_SIZE, Pid, SYNC_BYTE, write_pcr};
use crate::ts::pes::{STREAM_ID_METADATA, STREAM_ID_PRIVATE_1, write_pes};
use crate::ts::psi::{
    Descriptor, ElementaryStream, FORMAT_KLVA, Pat, PatEntry, Pmt, STREAM_TYPE_METADATA_PES,
    STREAM_TYPE_PRIVATE_PES,
};

/// Cuts payloads into packets on one PID, keeping its continuity counter.
#[derive(Debug, Clone)]
pub struct Packetizer {
    pid: Pid,
    cc: u8,
}

impl Packetizer {
    /// A packetizer whose first packet has continuity counter 0.
    pub fn new(pid: Pid) -> Self {
        Self { pid, cc: 0 }
    }

    /// Appends the packets of one PES packet; the first carries the unit start, `pcr` and random access.
    pub fn pes(&mut self, pes: &[u8], pcr: Option<Pcr>, out: &mut Vec<u8>) {
        let mut rest = pes;
        let mut first = true;
        while first || !rest.is_empty() {
            let mut field = Vec::new();
            if first && let Some(pcr) = pcr {
                field.push(0x50); // random_access_indicator, PCR_flag
                write_pcr(pcr, &mut field);
            }
            let field_bytes = if field.is_empty() { 0 } else { 1 + field.len() };
            let room = PACKET_SIZE - 4 - field_bytes;
            let mut has_field = !field.is_empty();
            if rest.len() < room {
                let stuffing = room - rest.len();
                if field.is_empty() {
                    has_field = true;
                    if stuffing >= 2 {
                        field.push(0x00); // flags: nothing
                        field.resize(stuffing - 1, 0xFF);
                    }
                } else {
                    field.resize(field.len() + stuffing, 0xFF);
                }
            }
            let (chunk, tail) = rest.split_at_checked(room).unwrap_or((rest, &[]));
            self.header(first, has_field, out);
            if has_field {
                out.push(field.len() as u8);
                out.extend_from_slice(&field);
            }
            out.extend_from_slice(chunk);
            rest = tail;
            first = false;
        }
    }

    /// Appends the packets of one PSI section (pointer_field 0, 0xFF stuffing after it).
    pub fn section(&mut self, section: &[u8], out: &mut Vec<u8>) {
        let mut payload = Vec::with_capacity(section.len() + 1);
        payload.push(0);
        payload.extend_from_slice(section);
        for (i, chunk) in payload.chunks(PACKET_SIZE - 4).enumerate() {
            self.header(i == 0, false, out);
            out.extend_from_slice(chunk);
            out.resize(out.len() + (PACKET_SIZE - 4 - chunk.len()), 0xFF);
        }
    }

    fn header(&mut self, unit_start: bool, adaptation: bool, out: &mut Vec<u8>) {
        let pid = self.pid.value();
        out.push(SYNC_BYTE);
        out.push((u8::from(unit_start) << 6) | (pid >> 8) as u8);
        out.push(pid as u8);
        out.push(if adaptation { 0x30 } else { 0x10 } | self.cc);
        self.cc = (self.cc + 1) & 0x0F;
    }
}

/// The three ways STANAG 4609 streams carry KLV (the digest's "KLV inside MPEG-2 TS").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KlvShape {
    /// stream_type 0x06, `KLVA` registration, PES stream_id 0xBD, no PTS (SMPTE RP 217).
    Asynchronous,
    /// stream_type 0x06, `KLVA` registration, PES stream_id 0xFC with a PTS (FFmpeg's default).
    AsynchronousWithPts,
    /// stream_type 0x15, `KLVA` metadata descriptors, PES stream_id 0xFC with a PTS, metadata AU cells.
    Synchronous,
}

/// Where a [`Muxer`] puts things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuxerConfig {
    /// transport_stream_id.
    pub transport_stream_id: u16,
    /// program_number.
    pub program_number: u16,
    /// The PMT's PID.
    pub pmt_pid: Pid,
    /// The KLV stream's PID (also the PCR PID).
    pub klv_pid: Pid,
    /// How KLV is carried.
    pub shape: KlvShape,
}

impl Default for MuxerConfig {
    fn default() -> Self {
        Self {
            transport_stream_id: 1,
            program_number: 1,
            pmt_pid: Pid::from_low_bits(0x1000),
            klv_pid: Pid::from_low_bits(0x0101),
            shape: KlvShape::AsynchronousWithPts,
        }
    }
}

/// Writes a metadata-only program: PAT, PMT and KLV PES packets (PCR on the KLV PID).
#[derive(Debug, Clone)]
pub struct Muxer {
    config: MuxerConfig,
    pat: Packetizer,
    pmt: Packetizer,
    klv: Packetizer,
    sequence: u8,
}

impl Muxer {
    /// A muxer with all continuity counters at 0.
    pub fn new(config: MuxerConfig) -> Self {
        Self {
            config,
            pat: Packetizer::new(Pid::PAT),
            pmt: Packetizer::new(config.pmt_pid),
            klv: Packetizer::new(config.klv_pid),
            sequence: 0,
        }
    }

    /// The PAT this muxer writes.
    pub fn pat(&self) -> Pat {
        Pat {
            transport_stream_id: self.config.transport_stream_id,
            version: 0,
            programs: vec![PatEntry { program_number: self.config.program_number, pid: self.config.pmt_pid }],
        }
    }

    /// The PMT this muxer writes.
    pub fn pmt(&self) -> Pmt {
        let (stream_type, descriptors) = match self.config.shape {
            KlvShape::Asynchronous | KlvShape::AsynchronousWithPts => {
                (STREAM_TYPE_PRIVATE_PES, vec![Descriptor::registration(FORMAT_KLVA)])
            }
            KlvShape::Synchronous => {
                (STREAM_TYPE_METADATA_PES, vec![Descriptor::klv_metadata(), Descriptor::klv_metadata_std()])
            }
        };
        Pmt {
            program_number: self.config.program_number,
            version: 0,
            pcr_pid: self.config.klv_pid,
            descriptors: Vec::new(),
            streams: vec![ElementaryStream { stream_type, pid: self.config.klv_pid, descriptors }],
        }
    }

    /// Appends the PAT and PMT packets.
    pub fn tables(&mut self, out: &mut Vec<u8>) {
        let (pat, pmt) = (self.pat().encode(), self.pmt().encode());
        self.pat.section(&pat, out);
        self.pmt.section(&pmt, out);
    }

    /// Appends one PES packet carrying `klv` (one or more whole KLV packets) at `pts`, with a PCR equal to it.
    pub fn klv(&mut self, pts: Timestamp90k, klv: &[u8], out: &mut Vec<u8>) {
        let pes = match self.config.shape {
            KlvShape::Asynchronous => write_pes(STREAM_ID_PRIVATE_1, None, None, klv),
            KlvShape::AsynchronousWithPts => write_pes(STREAM_ID_METADATA, Some(pts), None, klv),
            KlvShape::Synchronous => {
                let mut cells = Vec::with_capacity(klv.len() + 5);
                write_au_cell(0, self.sequence, klv, &mut cells);
                self.sequence = self.sequence.wrapping_add(1);
                write_pes(STREAM_ID_METADATA, Some(pts), None, &cells)
            }
        };
        self.klv.pes(&pes, Some(Pcr { base: pts.0, extension: 0 }), out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::packet::Packet;

    #[test]
    fn packets_are_well_formed_for_every_payload_size() {
        for size in [0usize, 1, 150, 175, 176, 177, 182, 183, 184, 185, 366, 367, 368, 1000] {
            let mut p = Packetizer::new(Pid::from_low_bits(0x100));
            let mut out = Vec::new();
            let pes = write_pes(0xE0, None, None, &vec![0xAB; size]);
            p.pes(&pes, Some(Pcr { base: 1, extension: 2 }), &mut out);
            assert_eq!(out.len() % PACKET_SIZE, 0, "size {size}");
            let mut joined = Vec::new();
            for (i, chunk) in out.chunks(PACKET_SIZE).enumerate() {
                let packet = Packet::parse(chunk).unwrap();
                assert_eq!(packet.header.continuity_counter, i as u8 & 0xF);
                assert_eq!(packet.header.unit_start, i == 0);
                joined.extend_from_slice(packet.payload);
            }
            assert_eq!(joined, pes, "size {size}");
        }
    }
}
