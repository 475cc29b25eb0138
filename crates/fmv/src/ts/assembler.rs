//! Reassembles PES packets from TS payloads for one PID, bounded: either buffering the whole packet (metadata
//! streams, up to a byte limit) or only its header (video and audio, whose payload the relay never needs).
//!
//! A PES packet with a declared length completes as soon as its last byte arrives (no waiting for the next
//! unit start: that matters for KLV latency); an unbounded one (length 0) completes at the next unit start.

use crate::error::PesError;
use crate::ts::pes::{PesHeader, parse_header};

/// The most bytes a PES header can take: 9 fixed bytes plus 255 bytes of header data.
const MAX_HEADER: usize = 9 + 255;

/// What an assembler keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssemblyMode {
    /// Buffer whole PES packets of at most `limit` bytes (header included).
    Buffer {
        /// The bound, in bytes.
        limit: usize,
    },
    /// Parse headers and count bytes; keep no payload.
    HeaderOnly,
}

/// A finished PES packet, or why one was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PesOutcome<'a> {
    /// A complete PES packet.
    Complete {
        /// Its header.
        header: PesHeader,
        /// The payload, in [`AssemblyMode::Buffer`] mode.
        payload: Option<&'a [u8]>,
        /// The payload's length in bytes.
        payload_length: usize,
    },
    /// A PES packet was lost or rejected.
    Error(PesError),
}

/// PES reassembly for one PID.
#[derive(Debug, Clone)]
pub struct PesAssembler {
    mode: AssemblyMode,
    buf: Vec<u8>,
    /// Bytes of the current PES packet received so far (buffered or not).
    received: usize,
    header: Option<PesHeader>,
    /// A PES packet is in progress.
    active: bool,
}

impl PesAssembler {
    /// An idle assembler.
    pub fn new(mode: AssemblyMode) -> Self {
        Self { mode, buf: Vec::new(), received: 0, header: None, active: false }
    }

    /// The assembler's mode.
    pub fn mode(&self) -> AssemblyMode {
        self.mode
    }

    /// Feeds one packet's payload.
    pub fn push(&mut self, unit_start: bool, payload: &[u8], emit: &mut dyn FnMut(PesOutcome<'_>)) {
        if unit_start {
            self.finish(emit);
            self.active = true;
        }
        if !self.active || payload.is_empty() {
            return;
        }
        self.received = self.received.saturating_add(payload.len());
        match self.mode {
            AssemblyMode::Buffer { limit } => {
                if self.buf.len() + payload.len() > limit {
                    self.abandon(PesError::TooLarge { limit }, emit);
                    return;
                }
                self.buf.extend_from_slice(payload);
            }
            AssemblyMode::HeaderOnly => {
                if self.header.is_none() {
                    let room = MAX_HEADER.saturating_sub(self.buf.len());
                    self.buf.extend_from_slice(payload.get(..room).unwrap_or(payload));
                }
            }
        }
        if self.header.is_none() {
            match parse_header(&self.buf) {
                Ok(header) => {
                    if let (Some(total), AssemblyMode::Buffer { limit }) = (header.total_length(), self.mode)
                        && total > limit
                    {
                        self.abandon(PesError::TooLarge { limit }, emit);
                        return;
                    }
                    self.header = Some(header);
                }
                Err(PesError::Truncated(_)) if self.buf.len() < MAX_HEADER => return,
                Err(err) => {
                    self.abandon(err, emit);
                    return;
                }
            }
        }
        if let Some(total) = self.header.and_then(|h| h.total_length())
            && self.received >= total
        {
            self.complete(Some(total), emit);
        }
    }

    /// A continuity error on the PID: the packet in progress lost bytes.
    pub fn discontinuity(&mut self, emit: &mut dyn FnMut(PesOutcome<'_>)) {
        if self.active {
            self.abandon(PesError::Discontinuity, emit);
        }
    }

    /// End of input: completes an unbounded PES packet, reports a truncated one.
    pub fn finish(&mut self, emit: &mut dyn FnMut(PesOutcome<'_>)) {
        if !self.active {
            return;
        }
        match self.header {
            Some(header) => match header.total_length() {
                None => self.complete(None, emit),
                Some(declared) => self.abandon(PesError::Incomplete { declared, got: self.received }, emit),
            },
            None if self.received == 0 => self.reset(),
            None => self.abandon(PesError::Truncated("PES header"), emit),
        }
    }

    fn complete(&mut self, total: Option<usize>, emit: &mut dyn FnMut(PesOutcome<'_>)) {
        if let Some(header) = self.header {
            let end = total.unwrap_or(self.received);
            let payload_length = end.saturating_sub(header.header_length);
            let payload = match self.mode {
                AssemblyMode::Buffer { .. } => Some(self.buf.get(header.header_length..end).unwrap_or(&[])),
                AssemblyMode::HeaderOnly => None,
            };
            emit(PesOutcome::Complete { header, payload, payload_length });
        }
        self.reset();
    }

    fn abandon(&mut self, err: PesError, emit: &mut dyn FnMut(PesOutcome<'_>)) {
        self.reset();
        emit(PesOutcome::Error(err));
    }

    fn reset(&mut self) {
        self.buf.clear();
        self.received = 0;
        self.header = None;
        self.active = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::pes::{STREAM_ID_METADATA, write_pes};

    fn run(a: &mut PesAssembler, pushes: &[(bool, &[u8])]) -> Vec<String> {
        let mut out = Vec::new();
        for (start, bytes) in pushes {
            a.push(*start, bytes, &mut |o| out.push(format!("{o:?}")));
        }
        out
    }

    #[test]
    fn completes_on_declared_length_without_waiting() {
        let pes = write_pes(STREAM_ID_METADATA, None, None, &[7; 300]);
        let mut a = PesAssembler::new(AssemblyMode::Buffer { limit: 4096 });
        let got = run(&mut a, &[(true, &pes[..184]), (false, &pes[184..])]);
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("payload_length: 300"), "{got:?}");
    }

    #[test]
    fn truncated_by_next_unit_start() {
        let pes = write_pes(STREAM_ID_METADATA, None, None, &[7; 300]);
        let mut a = PesAssembler::new(AssemblyMode::Buffer { limit: 4096 });
        let got = run(&mut a, &[(true, &pes[..184]), (true, &pes[..184])]);
        assert_eq!(
            got,
            [format!("{:?}", PesOutcome::Error(PesError::Incomplete { declared: 309, got: 184 }))]
        );
    }

    #[test]
    fn bounded() {
        let pes = write_pes(STREAM_ID_METADATA, None, None, &[7; 3000]);
        let mut a = PesAssembler::new(AssemblyMode::Buffer { limit: 1000 });
        let got = run(&mut a, &[(true, &pes[..184]), (false, &pes[184..368])]);
        assert_eq!(got, [format!("{:?}", PesOutcome::Error(PesError::TooLarge { limit: 1000 }))]);
        // Nothing more until the next unit start.
        assert!(run(&mut a, &[(false, &pes[368..552])]).is_empty());
    }

    #[test]
    fn unbounded_video_completes_at_next_start() {
        let mut pes = write_pes(0xE0, None, None, &[1; 400]);
        pes[4] = 0;
        pes[5] = 0;
        let mut a = PesAssembler::new(AssemblyMode::HeaderOnly);
        let got = run(
            &mut a,
            &[(true, &pes[..184]), (false, &pes[184..368]), (false, &pes[368..]), (true, &pes[..184])],
        );
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("payload: None, payload_length: 400"), "{got:?}");
    }

    #[test]
    fn discontinuity_drops_the_packet() {
        let pes = write_pes(STREAM_ID_METADATA, None, None, &[7; 300]);
        let mut a = PesAssembler::new(AssemblyMode::Buffer { limit: 4096 });
        run(&mut a, &[(true, &pes[..184])]);
        let mut out = Vec::new();
        a.discontinuity(&mut |o| out.push(format!("{o:?}")));
        assert_eq!(out, [format!("{:?}", PesOutcome::Error(PesError::Discontinuity))]);
        assert!(run(&mut a, &[(false, &pes[184..])]).is_empty());
    }
}
