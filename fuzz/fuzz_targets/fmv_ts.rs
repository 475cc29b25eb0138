//! Fuzzes the transport-stream demultiplexer: arbitrary bytes, cut into arbitrary chunks (the first input byte
//! picks the chunk size), through `handle_bytes`, and the same bytes as 188-byte packets through
//! `handle_packet`. Every event is drained and displayed. It must never panic; its queue stays bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redoubt_fmv::ts::{ChecksumPolicy, Demux, DemuxConfig, Event, PACKET_SIZE, Packet};

fn drain(demux: &mut Demux) {
    while let Some(event) = demux.poll_event() {
        if let Event::Malformed { error, .. } = &event {
            let _ = error.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else { return };
    let chunk = usize::from(first) * 7 + 1;
    let policy = if first & 1 == 0 { ChecksumPolicy::Strict } else { ChecksumPolicy::Report };
    let config = DemuxConfig { checksum_policy: policy, max_queued_events: 64, ..DemuxConfig::default() };

    let mut demux = Demux::new(config);
    for piece in bytes.chunks(chunk) {
        demux.handle_bytes(piece);
        drain(&mut demux);
    }
    demux.handle_end();
    drain(&mut demux);

    let mut packets = Demux::new(config);
    for packet in bytes.chunks(PACKET_SIZE) {
        let _ = Packet::parse(packet);
        packets.handle_packet(packet);
        drain(&mut packets);
    }
    packets.handle_end();
    drain(&mut packets);
});
