//! What the demultiplexer reports: events (tables found, PES and KLV packets, errors) and counters.

use crate::error::DemuxError;
use crate::klv::UniversalKey;
use crate::st0102::SecuritySet;
use crate::st0601::{ChecksumStatus, UasDatalinkSet};
use crate::time::Timestamp90k;
use crate::ts::packet::Pid;
use crate::ts::psi::{Pat, Pmt};

/// Something the demultiplexer observed. Events come out in stream order through `Demux::poll_event`.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new or changed PAT.
    Pat(Pat),
    /// A new or changed PMT.
    Pmt(Pmt),
    /// A complete PES packet on an elementary stream.
    Pes(PesInfo),
    /// A decoded KLV packet.
    Klv(KlvEvent),
    /// A continuity-counter jump: packets were lost or reordered on `pid`.
    ContinuityError {
        /// The PID.
        pid: Pid,
        /// The counter expected.
        expected: u8,
        /// The counter found.
        found: u8,
    },
    /// An ST 0601 packet whose checksum is wrong or missing. Under the strict policy (the default) the packet is
    /// not delivered as [`Event::Klv`].
    ChecksumError {
        /// The PID.
        pid: Pid,
        /// The PES packet's PTS.
        pts: Option<Timestamp90k>,
        /// The verdict.
        status: ChecksumStatus,
    },
    /// Sync was (re)acquired after skipping bytes that were not packets.
    Resynced {
        /// Bytes skipped.
        skipped: usize,
    },
    /// Malformed input, by layer; the demultiplexer skipped it and carries on.
    Malformed {
        /// The PID, when known.
        pid: Option<Pid>,
        /// What was wrong.
        error: DemuxError,
    },
}

/// A complete PES packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesInfo {
    /// The PID.
    pub pid: Pid,
    /// stream_id.
    pub stream_id: u8,
    /// PTS.
    pub pts: Option<Timestamp90k>,
    /// DTS.
    pub dts: Option<Timestamp90k>,
    /// Payload bytes.
    pub payload_length: usize,
    /// Index (from 0) of the TS packet that completed it.
    pub packet_index: u64,
}

/// A decoded KLV packet and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct KlvEvent {
    /// The PID.
    pub pid: Pid,
    /// The PTS of the PES packet that carried it (none in asynchronous carriage without PTS).
    pub pts: Option<Timestamp90k>,
    /// Index (from 0) of the TS packet that completed it.
    pub packet_index: u64,
    /// The decoded packet.
    pub payload: KlvPayload,
}

/// A KLV packet, decoded by key.
#[derive(Debug, Clone, PartialEq)]
pub enum KlvPayload {
    /// ST 0601 UAS Datalink Local Set.
    Uas(UasDatalinkSet),
    /// Standalone ST 0102 security set.
    Security(SecuritySet),
    /// A key this crate does not decode.
    Other {
        /// The key.
        key: UniversalKey,
        /// The value's length.
        length: usize,
    },
}

/// Running counts since the demultiplexer was made. Every error is counted, whether or not its event was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Bytes handed in (through either entry point).
    pub bytes: u64,
    /// 188-byte packets seen (including malformed and null ones).
    pub packets: u64,
    /// Null packets (PID 0x1FFF).
    pub null_packets: u64,
    /// Packets that failed to parse.
    pub malformed_packets: u64,
    /// Packets with transport_error_indicator set (payload ignored).
    pub transport_errors: u64,
    /// Scrambled packets (payload ignored).
    pub scrambled_packets: u64,
    /// Duplicate packets (payload ignored).
    pub duplicate_packets: u64,
    /// Continuity-counter errors.
    pub cc_errors: u64,
    /// Times sync was (re)acquired after skipping bytes.
    pub resyncs: u64,
    /// Bytes skipped while looking for sync.
    pub skipped_bytes: u64,
    /// Malformed or incomplete PSI sections (bad CRC included).
    pub psi_errors: u64,
    /// Complete PES packets.
    pub pes_packets: u64,
    /// PES packets lost: truncated, oversized, malformed, broken by a continuity error.
    pub pes_errors: u64,
    /// KLV packets delivered.
    pub klv_packets: u64,
    /// Malformed KLV (BER lengths past the end, bad tags, bad AU cells...).
    pub klv_errors: u64,
    /// ST 0601 packets with a wrong or missing checksum.
    pub checksum_errors: u64,
    /// Events dropped because the caller did not poll and the queue was full.
    pub events_dropped: u64,
    /// PMT entries not tracked because a bound (programs, KLV streams) was reached.
    pub streams_ignored: u64,
}
