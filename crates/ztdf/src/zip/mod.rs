//! The ZIP container of a ZTDF: stored (uncompressed) entries only, data descriptors for streamed entries,
//! ZIP64 when an entry or offset reaches 4 GiB. Written and read here rather than with a general ZIP crate
//! because the container needs exactly this subset with bounded memory: the writer streams the payload
//! without knowing its size, and the reader seeks to entries by name without reading the payload.

mod bytes;
mod read;
mod write;

pub use read::{ZipEntry, read_directory};
pub use write::ZipWriter;

// Record signatures and constants of the ZIP format (APPNOTE 6.3.x). Do not change: wire constants.
const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;
const LOCAL_HEADER_LEN: u64 = 30;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_LEN: u64 = 20;
const ZIP64_EOCD_LEN: u64 = 56;
const U32_MAX: u64 = 0xFFFF_FFFF;
/// General-purpose flag bit 3: sizes and CRC follow the data in a data descriptor.
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
/// General-purpose flag bit 0: the entry is encrypted with ZIP encryption (never valid in a ZTDF).
const FLAG_ENCRYPTED: u16 = 0x0001;
const VERSION_ZIP64: u16 = 45;
const VERSION_DEFAULT: u16 = 20;
/// DOS date 1980-01-01: the writer has no clock (pure core) and timestamps would leak when the object was made.
const DOS_DATE: u16 = 0x0021;
const DOS_TIME: u16 = 0;
