//! The sans-IO demultiplexer: observes a transport stream without owning it. Bytes or packets in
//! ([`Demux::handle_bytes`], [`Demux::handle_packet`]), [`Event`]s out ([`Demux::poll_event`]), [`Counters`]
//! always up to date. It never panics and its memory is bounded by [`DemuxConfig`], whatever the input:
//!
//! - framing: at most 8 packets; continuity: a fixed 8 KiB table;
//! - PSI: one 1 KiB section per PMT PID, at most `max_programs` PMT PIDs;
//! - PES: `max_klv_pes` bytes per KLV stream, at most `max_klv_streams` of them; 264 bytes per other stream;
//! - events: at most `max_queued_events` queued (the oldest are dropped and counted).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use crate::error::{DemuxError, KlvError};
use crate::klv::au_cell::{au_cells, has_au_cells};
use crate::klv::{KlvPackets, UniversalKey};
use crate::st0102::SecuritySet;
use crate::st0601::UasDatalinkSet;
use crate::time::Timestamp90k;
use crate::ts::assembler::{AssemblyMode, PesAssembler, PesOutcome};
use crate::ts::continuity::{Continuity, ContinuityTracker};
use crate::ts::event::{Counters, Event, KlvEvent, KlvPayload, PesInfo};
use crate::ts::framer::{Framed, Framer};
use crate::ts::packet::{Packet, Pid};
use crate::ts::psi::{KlvCarriage, Pat, Pmt};
use crate::ts::section::SectionAssembler;

/// What to do with an ST 0601 packet whose checksum is wrong or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChecksumPolicy {
    /// Report it as [`Event::ChecksumError`] and do not deliver it (what ST 0601 requires).
    #[default]
    Strict,
    /// Report it as [`Event::ChecksumError`] and deliver it as [`Event::Klv`] too (for probes and forensics).
    Report,
}

/// Bounds and policies of a [`Demux`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemuxConfig {
    /// Checksum policy for ST 0601 packets.
    pub checksum_policy: ChecksumPolicy,
    /// The largest KLV PES packet reassembled, in bytes (header included).
    pub max_klv_pes: usize,
    /// The most KLV elementary streams tracked.
    pub max_klv_streams: usize,
    /// The most programs (PMT PIDs) tracked.
    pub max_programs: usize,
    /// The most events queued before the oldest are dropped.
    pub max_queued_events: usize,
    /// Report [`Event::Pes`] for every elementary stream, not only KLV ones.
    pub pes_events: bool,
}

impl Default for DemuxConfig {
    fn default() -> Self {
        Self {
            checksum_policy: ChecksumPolicy::Strict,
            max_klv_pes: 64 * 1024,
            max_klv_streams: 16,
            max_programs: 64,
            max_queued_events: 4096,
            pes_events: true,
        }
    }
}

#[derive(Debug)]
struct ProgramState {
    program_number: u16,
    sections: SectionAssembler,
    pmt: Option<Pmt>,
}

#[derive(Debug)]
struct StreamState {
    program_number: u16,
    stream_type: u8,
    klv: Option<KlvCarriage>,
    assembler: PesAssembler,
}

#[derive(Debug)]
struct EventQueue {
    queue: VecDeque<Event>,
    max: usize,
}

impl EventQueue {
    fn push(&mut self, counters: &mut Counters, event: Event) {
        if self.queue.len() >= self.max.max(1) {
            self.queue.pop_front();
            counters.events_dropped += 1;
        }
        self.queue.push_back(event);
    }
}

/// An MPEG-TS demultiplexer that finds PAT/PMT, reassembles PES packets, decodes the KLV it carries and counts
/// every error it skips. See the module documentation for its bounds.
#[derive(Debug)]
pub struct Demux {
    config: DemuxConfig,
    framer: Framer,
    continuity: ContinuityTracker,
    pat_sections: SectionAssembler,
    pat: Option<Pat>,
    programs: HashMap<Pid, ProgramState>,
    streams: HashMap<Pid, StreamState>,
    events: EventQueue,
    counters: Counters,
}

impl Default for Demux {
    fn default() -> Self {
        Self::new(DemuxConfig::default())
    }
}

impl Demux {
    /// A demultiplexer that has seen nothing.
    pub fn new(config: DemuxConfig) -> Self {
        Self {
            config,
            framer: Framer::new(),
            continuity: ContinuityTracker::new(),
            pat_sections: SectionAssembler::new(),
            pat: None,
            programs: HashMap::new(),
            streams: HashMap::new(),
            events: EventQueue { queue: VecDeque::new(), max: config.max_queued_events },
            counters: Counters::default(),
        }
    }

    /// Feeds bytes cut anywhere (file reads, datagrams): the demultiplexer finds packet boundaries itself and
    /// resynchronises after garbage. Do not mix with [`Demux::handle_packet`] on one instance.
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        self.counters.bytes += bytes.len() as u64;
        let mut framer = std::mem::take(&mut self.framer);
        framer.push(bytes, &mut |framed| self.framed(framed));
        self.framer = framer;
    }

    /// Feeds exactly one 188-byte packet (a relay that already has packets). A packet of another size or with
    /// a wrong sync byte is reported as malformed.
    pub fn handle_packet(&mut self, packet: &[u8]) {
        self.counters.bytes += packet.len() as u64;
        self.packet(packet);
    }

    /// End of input: frames what is left, completes PES packets of undeclared length, reports truncated ones.
    pub fn handle_end(&mut self) {
        let mut framer = std::mem::take(&mut self.framer);
        framer.finish(&mut |framed| self.framed(framed));
        self.framer = framer;
        let pids: Vec<Pid> = self.streams.keys().copied().collect();
        for pid in pids {
            self.with_stream(pid, |assembler, emit| assembler.finish(emit));
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.queue.pop_front()
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The current PAT, once seen.
    pub fn pat(&self) -> Option<&Pat> {
        self.pat.as_ref()
    }

    /// The current PMTs, once seen.
    pub fn pmts(&self) -> impl Iterator<Item = &Pmt> {
        self.programs.values().filter_map(|p| p.pmt.as_ref())
    }

    /// The KLV elementary streams being decoded.
    pub fn klv_streams(&self) -> impl Iterator<Item = (Pid, KlvCarriage)> + '_ {
        self.streams.iter().filter_map(|(pid, s)| s.klv.map(|k| (*pid, k)))
    }

    fn framed(&mut self, framed: Framed<'_>) {
        match framed {
            Framed::Packet(bytes) => self.packet(bytes),
            Framed::Skipped(n) => {
                self.counters.resyncs += 1;
                self.counters.skipped_bytes += n as u64;
                self.emit(Event::Resynced { skipped: n });
            }
        }
    }

    fn emit(&mut self, event: Event) {
        self.events.push(&mut self.counters, event);
    }

    fn packet(&mut self, bytes: &[u8]) {
        self.counters.packets += 1;
        let packet = match Packet::parse(bytes) {
            Ok(p) => p,
            Err(err) => {
                self.counters.malformed_packets += 1;
                self.emit(Event::Malformed { pid: None, error: err.into() });
                return;
            }
        };
        let pid = packet.header.pid;
        if packet.header.transport_error {
            self.counters.transport_errors += 1;
            return;
        }
        if pid == Pid::NULL {
            self.counters.null_packets += 1;
            return;
        }
        match self.continuity.observe(&packet) {
            Continuity::Duplicate => {
                self.counters.duplicate_packets += 1;
                return;
            }
            Continuity::Error { expected, found } => {
                self.counters.cc_errors += 1;
                self.emit(Event::ContinuityError { pid, expected, found });
                self.lost(pid);
            }
            Continuity::Start | Continuity::InOrder => {}
        }
        if packet.header.scrambling != 0 {
            self.counters.scrambled_packets += 1;
            return;
        }
        if packet.payload.is_empty() {
            return;
        }
        let unit_start = packet.header.unit_start;
        if pid == Pid::PAT {
            self.pat_payload(unit_start, packet.payload);
        } else if self.programs.contains_key(&pid) {
            self.pmt_payload(pid, unit_start, packet.payload);
        } else if self.streams.contains_key(&pid) {
            self.with_stream(pid, |assembler, emit| assembler.push(unit_start, packet.payload, emit));
        }
    }

    /// Packets were lost on `pid`: whatever was being assembled there is broken.
    fn lost(&mut self, pid: Pid) {
        if pid == Pid::PAT {
            self.pat_sections.reset();
        } else if let Some(program) = self.programs.get_mut(&pid) {
            program.sections.reset();
        } else if self.streams.contains_key(&pid) {
            self.with_stream(pid, |assembler, emit| assembler.discontinuity(emit));
        }
    }

    fn pat_payload(&mut self, unit_start: bool, payload: &[u8]) {
        let mut sections = Vec::new();
        self.pat_sections.push(unit_start, payload, &mut |s| sections.push(s.map(<[u8]>::to_vec)));
        for section in sections {
            match section.and_then(|s| Pat::parse(&s)) {
                Ok(pat) => self.apply_pat(pat),
                Err(err) => self.psi_error(Pid::PAT, err),
            }
        }
    }

    fn pmt_payload(&mut self, pid: Pid, unit_start: bool, payload: &[u8]) {
        let mut sections = Vec::new();
        if let Some(program) = self.programs.get_mut(&pid) {
            program.sections.push(unit_start, payload, &mut |s| sections.push(s.map(<[u8]>::to_vec)));
        }
        for section in sections {
            match section.and_then(|s| Pmt::parse(&s)) {
                Ok(pmt) => self.apply_pmt(pid, pmt),
                Err(err) => self.psi_error(pid, err),
            }
        }
    }

    fn psi_error(&mut self, pid: Pid, err: crate::error::PsiError) {
        self.counters.psi_errors += 1;
        self.emit(Event::Malformed { pid: Some(pid), error: err.into() });
    }

    fn apply_pat(&mut self, pat: Pat) {
        if self.pat.as_ref() == Some(&pat) {
            return;
        }
        let wanted: HashMap<Pid, u16> = pat
            .programs
            .iter()
            .filter(|p| p.program_number != 0)
            .map(|p| (p.pid, p.program_number))
            .collect();
        self.programs.retain(|pid, state| wanted.get(pid) == Some(&state.program_number));
        let kept: Vec<u16> = self.programs.values().map(|p| p.program_number).collect();
        self.streams.retain(|_, s| kept.contains(&s.program_number));
        for entry in pat.programs.iter().filter(|p| p.program_number != 0) {
            if self.programs.contains_key(&entry.pid) || entry.pid == Pid::PAT {
                continue;
            }
            if self.programs.len() >= self.config.max_programs {
                self.counters.streams_ignored += 1;
                continue;
            }
            self.programs.insert(
                entry.pid,
                ProgramState {
                    program_number: entry.program_number,
                    sections: SectionAssembler::new(),
                    pmt: None,
                },
            );
        }
        self.pat = Some(pat.clone());
        self.emit(Event::Pat(pat));
    }

    fn apply_pmt(&mut self, pid: Pid, pmt: Pmt) {
        let Some(program) = self.programs.get_mut(&pid) else { return };
        if program.program_number != pmt.program_number || program.pmt.as_ref() == Some(&pmt) {
            return;
        }
        program.pmt = Some(pmt.clone());
        let number = pmt.program_number;
        self.streams.retain(|es_pid, s| {
            s.program_number != number
                || pmt.streams.iter().any(|es| {
                    es.pid == *es_pid && es.stream_type == s.stream_type && es.klv_carriage() == s.klv
                })
        });
        for es in &pmt.streams {
            if self.streams.contains_key(&es.pid) || self.programs.contains_key(&es.pid) || es.pid == Pid::PAT
            {
                continue;
            }
            let klv = es.klv_carriage();
            let mode = match klv {
                Some(_) if self.klv_stream_count() >= self.config.max_klv_streams => {
                    self.counters.streams_ignored += 1;
                    continue;
                }
                Some(_) => AssemblyMode::Buffer { limit: self.config.max_klv_pes },
                None if self.config.pes_events => AssemblyMode::HeaderOnly,
                None => continue,
            };
            self.streams.insert(
                es.pid,
                StreamState {
                    program_number: number,
                    stream_type: es.stream_type,
                    klv,
                    assembler: PesAssembler::new(mode),
                },
            );
        }
        self.emit(Event::Pmt(pmt));
    }

    fn klv_stream_count(&self) -> usize {
        self.streams.values().filter(|s| s.klv.is_some()).count()
    }

    /// Runs `f` on the PID's assembler and turns what it reports into events.
    fn with_stream(&mut self, pid: Pid, f: impl FnOnce(&mut PesAssembler, &mut dyn FnMut(PesOutcome<'_>))) {
        let Some(stream) = self.streams.get_mut(&pid) else { return };
        let carriage = stream.klv;
        let packet_index = self.counters.packets.saturating_sub(1);
        let policy = self.config.checksum_policy;
        let counters = &mut self.counters;
        let events = &mut self.events;
        f(&mut stream.assembler, &mut |outcome| match outcome {
            PesOutcome::Complete { header, payload, payload_length } => {
                counters.pes_packets += 1;
                events.push(
                    counters,
                    Event::Pes(PesInfo {
                        pid,
                        stream_id: header.stream_id,
                        pts: header.pts,
                        dts: header.dts,
                        payload_length,
                        packet_index,
                    }),
                );
                if let (Some(carriage), Some(payload)) = (carriage, payload) {
                    let origin = Origin { pid, pts: header.pts, packet_index, policy };
                    decode_klv(origin, carriage, payload, counters, events);
                }
            }
            PesOutcome::Error(err) => {
                counters.pes_errors += 1;
                events.push(counters, Event::Malformed { pid: Some(pid), error: DemuxError::Pes(err) });
            }
        });
    }
}

#[derive(Debug, Clone, Copy)]
struct Origin {
    pid: Pid,
    pts: Option<Timestamp90k>,
    packet_index: u64,
    policy: ChecksumPolicy,
}

/// Decodes the KLV packets of one metadata PES payload into events.
fn decode_klv(
    origin: Origin,
    carriage: KlvCarriage,
    payload: &[u8],
    counters: &mut Counters,
    events: &mut EventQueue,
) {
    let klv_error = |counters: &mut Counters, events: &mut EventQueue, err: KlvError| {
        counters.klv_errors += 1;
        events.push(counters, Event::Malformed { pid: Some(origin.pid), error: DemuxError::Klv(err) });
    };
    let data: Cow<'_, [u8]> = if carriage == KlvCarriage::Synchronous && has_au_cells(payload) {
        match au_cells(payload) {
            Ok(cells) => Cow::Owned(cells.iter().flat_map(|c| c.data.iter().copied()).collect()),
            Err(err) => return klv_error(counters, events, err),
        }
    } else {
        Cow::Borrowed(payload)
    };
    for packet in KlvPackets::new(&data) {
        let packet = match packet {
            Ok(p) => p,
            Err(err) => {
                klv_error(counters, events, err);
                continue;
            }
        };
        let decoded = if packet.key.matches(&UniversalKey::UAS_DATALINK) {
            match UasDatalinkSet::from_packet(&packet) {
                Ok(set) if set.checksum().is_valid() => Ok(KlvPayload::Uas(set)),
                Ok(set) => {
                    counters.checksum_errors += 1;
                    let status = set.checksum();
                    events.push(counters, Event::ChecksumError { pid: origin.pid, pts: origin.pts, status });
                    match origin.policy {
                        ChecksumPolicy::Strict => continue,
                        ChecksumPolicy::Report => Ok(KlvPayload::Uas(set)),
                    }
                }
                Err(err) => Err(err),
            }
        } else if packet.key.matches(&UniversalKey::SECURITY) {
            SecuritySet::from_packet(&packet).map(KlvPayload::Security)
        } else {
            Ok(KlvPayload::Other { key: packet.key, length: packet.value.len() })
        };
        match decoded {
            Ok(payload) => {
                counters.klv_packets += 1;
                let event =
                    KlvEvent { pid: origin.pid, pts: origin.pts, packet_index: origin.packet_index, payload };
                events.push(counters, Event::Klv(event));
            }
            Err(err) => klv_error(counters, events, err),
        }
    }
}
