//! Fuzzes the manifest parser and structure checks: the input is the manifest JSON of a container with a small
//! payload, so hostile counts, sizes that overflow and huge segment lists reach the checks directly.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use redoubt_ztdf::zip::ZipWriter;
use redoubt_ztdf::{TdfReader, inspect};

fuzz_target!(|data: &[u8]| {
    let mut z = ZipWriter::new(Vec::new());
    let ok = z.start_streamed("0.payload").is_ok()
        && z.write_data(&[0u8; 60]).is_ok()
        && z.finish_streamed().is_ok()
        && z.add_entry("0.manifest.json", data).is_ok();
    if !ok {
        return;
    }
    let Ok((bytes, _)) = z.finish() else { return };
    let _ = inspect(Cursor::new(&bytes));
    let _ = TdfReader::open(Cursor::new(&bytes));
});
