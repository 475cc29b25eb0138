//! MPEG-2 transport streams (ISO/IEC 13818-1): packets, continuity counters, PSI (PAT/PMT), PES reassembly, the
//! sans-IO [`Demux`] that observes a stream and decodes its KLV, and the [`Muxer`] that builds streams.

pub mod assembler;
pub mod continuity;
mod demux;
mod event;
pub mod framer;
mod mux;
pub mod packet;
pub mod pes;
pub mod psi;
pub mod section;

pub use demux::{ChecksumPolicy, Demux, DemuxConfig};
pub use event::{Counters, Event, KlvEvent, KlvPayload, PesInfo};
pub use mux::{KlvShape, Muxer, MuxerConfig, Packetizer};
pub use packet::{PACKET_SIZE, Packet, Pid, SYNC_BYTE};
pub use psi::{Descriptor, ElementaryStream, KlvCarriage, Pat, PatEntry, Pmt};
