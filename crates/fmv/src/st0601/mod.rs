//! MISB ST 0601 UAS Datalink Local Set: parsing (every tag kept raw, the key tags decoded to typed values with
//! units, the checksum verified) and writing.

pub mod imapb;
mod set;
pub mod tags;
pub mod value;
mod writer;

pub use set::{ChecksumStatus, DecodedItem, GeoPoint, UasDatalinkSet};
pub use tags::{Format, TagInfo, Unit, tag, tag_info};
pub use value::{Value, ValueError};
pub use writer::{EncodeError, UasDatalinkWriter};
