//! Pure codecs for STANAG 4609 full-motion video: MPEG-2 transport streams (packets, PAT/PMT, PES, continuity),
//! SMPTE KLV, MISB ST 0601 UAS Datalink local sets and MISB ST 0102 security metadata — decoders and encoders.
//!
//! This crate owns the bytes-to-values boundary of FMV. It is sans-IO: no sockets, no clock, no threads, no
//! global state; the node feeds it bytes and polls [`ts::Demux`] for events. It must never panic, never index an
//! untrusted buffer (every parser reads through a bounded reader), never hold unbounded memory (every buffer has
//! a configured limit) and never modify a transport stream: the relay forwards the packets it observes unchanged.
//!
//! Layers, bottom up: [`klv`] (BER, keys, local sets, checksums) → [`st0601`] / [`st0102`] (what the items mean;
//! ST 0102 to a STANAG 4774 label through [`st0102::marking`] and [`label`]) → [`ts`] (transport stream and the demux).

mod crc;
pub mod error;
pub mod klv;
pub mod label;
mod reader;
pub mod st0102;
pub mod st0601;
mod time;
pub mod ts;

pub use crc::crc32_mpeg2;
pub use error::{DemuxError, KlvError, PesError, PsiError, TsError};
pub use time::{Pcr, PrecisionTime, Timestamp90k};
