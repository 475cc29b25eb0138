//! Helpers shared by the integration tests: vendored vectors and running the demux to completion.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "shared test helpers fail loudly"
)]

use std::path::PathBuf;

use redoubt_fmv::ts::{ChecksumPolicy, Demux, DemuxConfig, Event};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

/// Demuxes `bytes` fed in `chunk`-byte pieces and returns every event.
pub fn demux_bytes(bytes: &[u8], chunk: usize, policy: ChecksumPolicy) -> (Vec<Event>, Demux) {
    let mut demux = Demux::new(DemuxConfig { checksum_policy: policy, ..DemuxConfig::default() });
    let mut events = Vec::new();
    for piece in bytes.chunks(chunk.max(1)) {
        demux.handle_bytes(piece);
        while let Some(e) = demux.poll_event() {
            events.push(e);
        }
    }
    demux.handle_end();
    while let Some(e) = demux.poll_event() {
        events.push(e);
    }
    (events, demux)
}

pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
