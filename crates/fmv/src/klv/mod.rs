//! SMPTE ST 336 KLV: BER lengths and BER-OID tags, 16-byte universal keys, key-length-value packets, local-set
//! items, the ST 0601 16-bit running-sum checksum and the metadata AU cells of synchronous carriage.
//!
//! This layer knows nothing of what the items mean: [`crate::st0601`] and [`crate::st0102`] build on it.

pub mod au_cell;
pub mod ber;
pub mod checksum;
pub mod key;
pub mod local_set;
pub mod packet;

pub use key::UniversalKey;
pub use local_set::{LocalItem, LocalSetWriter, local_items};
pub use packet::{KlvPacket, KlvPackets, write_klv};
