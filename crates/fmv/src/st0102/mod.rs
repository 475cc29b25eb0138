//! MISB ST 0102 security metadata: the local set nested in ST 0601 tag 48 and the standalone universal set,
//! parsed (every item kept raw, the marking fields typed) and written; [`marking`] maps it to a STANAG 4774 label.

pub mod marking;
mod set;

pub use marking::{MarkingError, SecurityMarking};
pub use set::{Classification, SecuritySet, security_tag_name, tag};
