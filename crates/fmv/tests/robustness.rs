//! Bad input is counted and reported, parsing carries on, nothing panics: garbage, wrong sync bytes, lost and
//! truncated PES packets, BER lengths past the end, bad checksums, unpolled events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use redoubt_fmv::st0601::{ChecksumStatus, UasDatalinkWriter};
use redoubt_fmv::ts::{
    ChecksumPolicy, Demux, DemuxConfig, Event, KlvPayload, KlvShape, Muxer, MuxerConfig, PACKET_SIZE,
};
use redoubt_fmv::{DemuxError, KlvError, PesError, PrecisionTime, Timestamp90k};

/// A deterministic byte generator (no OS randomness in tests).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn uas(i: u64) -> Vec<u8> {
    let mut w = UasDatalinkWriter::new();
    w.precision_time(PrecisionTime(1_700_000_000_000_000 + i)).version(17);
    w.finish()
}

/// A stream of `n` KLV packets, one PES (and one TS packet, for small KLV) each, after PAT and PMT.
fn stream(n: u64, shape: KlvShape, klv: impl Fn(u64) -> Vec<u8>) -> Vec<u8> {
    let mut muxer = Muxer::new(MuxerConfig { shape, ..MuxerConfig::default() });
    let mut out = Vec::new();
    muxer.tables(&mut out);
    for i in 0..n {
        muxer.klv(Timestamp90k(i * 3600), &klv(i), &mut out);
    }
    out
}

fn klv_count(events: &[Event]) -> usize {
    events.iter().filter(|e| matches!(e, Event::Klv(_))).count()
}

#[test]
fn garbage_between_packets_is_skipped_and_counted() {
    let clean = common::read("klv_in_mpegts_async_0x06.ts");
    let mut dirty = noise(1000, 1);
    for (i, packet) in clean.chunks(PACKET_SIZE).enumerate() {
        dirty.extend_from_slice(packet);
        if i % 97 == 13 {
            dirty.extend(noise(i % 50 + 1, i as u64));
        }
    }
    let (events, demux) = common::demux_bytes(&dirty, 1316, ChecksumPolicy::Strict);
    let c = demux.counters();
    assert_eq!(c.skipped_bytes as usize, dirty.len() - clean.len(), "{c:?}");
    assert!(c.resyncs >= 5);
    assert_eq!(klv_count(&events), 50, "every KLV packet survives garbage between TS packets");
    assert!(events.iter().any(|e| matches!(e, Event::Resynced { .. })));
}

#[test]
fn pure_noise_yields_nothing_but_counts() {
    for seed in 0..4 {
        let bytes = noise(200_000, seed);
        let (events, demux) = common::demux_bytes(&bytes, 4096, ChecksumPolicy::Strict);
        assert!(events.iter().all(|e| matches!(e, Event::Resynced { .. } | Event::Malformed { .. })));
        assert!(demux.counters().skipped_bytes > 190_000);
    }
}

#[test]
fn noise_shaped_like_packets_does_not_panic() {
    // Valid sync bytes every 188 bytes with random headers and payloads: the worst case for every parser.
    let mut bytes = noise(188 * 3000, 7);
    for p in bytes.chunks_mut(PACKET_SIZE) {
        p[0] = 0x47;
        p[1] &= 0x1F; // no TEI, so payloads are parsed
        if p[2] % 3 == 0 {
            p[1] &= 0xE0; // PID 0: PAT sections from noise
            p[2] = 0;
        }
    }
    let (_events, demux) = common::demux_bytes(&bytes, 1316, ChecksumPolicy::Strict);
    assert_eq!(demux.counters().packets, 3000);
}

#[test]
fn wrong_sync_byte_loses_one_packet_and_the_stream_goes_on() {
    let mut ts = stream(20, KlvShape::AsynchronousWithPts, uas);
    // Packet 0 is the PAT, 1 the PMT, 2.. one KLV packet each: break the sync byte of the 6th KLV packet.
    ts[PACKET_SIZE * 7] = 0x46;
    let (events, demux) = common::demux_bytes(&ts, 1000, ChecksumPolicy::Strict);
    let c = demux.counters();
    assert_eq!(c.skipped_bytes, PACKET_SIZE as u64);
    assert_eq!(c.cc_errors, 1, "the lost packet shows as a continuity error");
    assert_eq!(klv_count(&events), 19);
    // Fed packet by packet (no framing), the bad packet is reported as malformed instead.
    let mut demux = Demux::default();
    ts.chunks(PACKET_SIZE).for_each(|p| demux.handle_packet(p));
    assert_eq!(demux.counters().malformed_packets, 1);
    assert_eq!(demux.counters().klv_packets, 19);
}

#[test]
fn truncated_pes_is_reported_and_the_next_one_decodes() {
    // 600-byte KLV packets span 4 TS packets; drop the second TS packet of the 3rd PES.
    let big = |i: u64| {
        let mut w = UasDatalinkWriter::new();
        w.precision_time(PrecisionTime(i)).raw(94, &[0xAB; 580]);
        w.finish()
    };
    let ts = stream(6, KlvShape::AsynchronousWithPts, big);
    let packets: Vec<&[u8]> = ts.chunks(PACKET_SIZE).collect();
    let per_pes = (packets.len() - 2) / 6;
    let drop = 2 + 2 * per_pes + 1;
    let cut: Vec<u8> =
        packets.iter().enumerate().filter(|(i, _)| *i != drop).flat_map(|(_, p)| p.to_vec()).collect();
    let (events, demux) = common::demux_bytes(&cut, 188, ChecksumPolicy::Strict);
    let c = demux.counters();
    assert_eq!((c.cc_errors, c.pes_errors), (1, 1), "{c:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Malformed { error: DemuxError::Pes(PesError::Discontinuity), .. }))
    );
    assert_eq!(klv_count(&events), 5);

    // A PES whose declared length is longer than what arrives before the next unit start (no CC error).
    let mut muxer = Muxer::new(MuxerConfig::default());
    let mut ts = Vec::new();
    muxer.tables(&mut ts);
    muxer.klv(Timestamp90k(0), &uas(0), &mut ts);
    let first_klv = PACKET_SIZE * 2;
    // PES_packet_length is at bytes 4..6 of the PES (after the adaptation field's PCR and stuffing).
    let packet = &ts[first_klv..first_klv + PACKET_SIZE];
    let pes_at = packet.windows(4).position(|w| w == [0, 0, 1, 0xFC]).unwrap();
    ts[first_klv + pes_at + 4] = 0x02; // claim 512+ bytes
    muxer.klv(Timestamp90k(3600), &uas(1), &mut ts);
    let (events, demux) = common::demux_bytes(&ts, 188, ChecksumPolicy::Strict);
    assert!(
        events.iter().any(|e| matches!(
            e,
            Event::Malformed { error: DemuxError::Pes(PesError::Incomplete { .. }), .. }
        ))
    );
    assert_eq!(demux.counters().klv_packets, 1);
}

#[test]
fn ber_length_past_the_end_is_counted() {
    let ts = stream(5, KlvShape::AsynchronousWithPts, |i| {
        let mut p = uas(i);
        if i == 2 {
            p[16] = 0x7F; // the outer length now claims more than the PES holds
        }
        if i == 3 {
            p[16] = 0x88; // 8 length bytes: over the 4-byte limit
        }
        p
    });
    let (events, demux) = common::demux_bytes(&ts, 188, ChecksumPolicy::Strict);
    let c = demux.counters();
    assert_eq!(c.klv_errors, 2, "{c:?}");
    assert_eq!(klv_count(&events), 3);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Malformed { error: DemuxError::Klv(KlvError::LengthPastEnd { .. }), .. }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Malformed { error: DemuxError::Klv(KlvError::BerLengthTooLong(8)), .. }
    )));
}

#[test]
fn bad_checksums_are_strict_by_default_and_reportable() {
    let ts = stream(4, KlvShape::Synchronous, |i| {
        let mut p = uas(i);
        if i % 2 == 1 {
            let last = p.len() - 1;
            p[last] ^= 0xFF;
        }
        p
    });
    let (events, demux) = common::demux_bytes(&ts, 188, ChecksumPolicy::Strict);
    assert_eq!(demux.counters().checksum_errors, 2);
    assert_eq!(klv_count(&events), 2);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ChecksumError { status: ChecksumStatus::Mismatch { .. }, .. }))
    );

    let (events, demux) = common::demux_bytes(&ts, 188, ChecksumPolicy::Report);
    assert_eq!(demux.counters().checksum_errors, 2);
    let delivered: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Klv(k) => match &k.payload {
                KlvPayload::Uas(s) => Some(s.checksum().is_valid()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(delivered, [true, false, true, false]);
}

#[test]
fn the_real_world_bad_checksum_packet_in_a_stream() {
    let bad = common::read("DynamicConstantMISMMSPacketData.bin");
    let ts = stream(3, KlvShape::Asynchronous, |_| bad.clone());
    let (events, demux) = common::demux_bytes(&ts, 188, ChecksumPolicy::Strict);
    assert_eq!(demux.counters().checksum_errors, 3);
    assert_eq!(klv_count(&events), 0);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::ChecksumError { status: ChecksumStatus::Mismatch { stored: 0xAA43, computed: 0x3E1E }, .. }
    )));
}

#[test]
fn transport_errors_and_oversized_pes_are_counted() {
    let mut ts = stream(3, KlvShape::AsynchronousWithPts, uas);
    ts[PACKET_SIZE * 3 + 1] |= 0x80; // transport_error_indicator on the 2nd KLV packet
    let (events, demux) = common::demux_bytes(&ts, 188, ChecksumPolicy::Strict);
    assert_eq!(demux.counters().transport_errors, 1);
    assert_eq!(klv_count(&events), 2);

    let huge = |_| {
        let mut w = UasDatalinkWriter::new();
        w.raw(94, &vec![0; 5000]);
        w.finish()
    };
    let ts = stream(2, KlvShape::AsynchronousWithPts, huge);
    let mut demux = Demux::new(DemuxConfig { max_klv_pes: 1024, ..DemuxConfig::default() });
    demux.handle_bytes(&ts);
    demux.handle_end();
    let mut events = Vec::new();
    while let Some(e) = demux.poll_event() {
        events.push(e);
    }
    assert_eq!(demux.counters().pes_errors, 2);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Malformed { error: DemuxError::Pes(PesError::TooLarge { limit: 1024 }), .. }
    )));
}

#[test]
fn unpolled_events_are_bounded() {
    let ts = stream(500, KlvShape::AsynchronousWithPts, uas);
    let mut demux = Demux::new(DemuxConfig { max_queued_events: 100, ..DemuxConfig::default() });
    demux.handle_bytes(&ts);
    let mut queued = 0;
    while demux.poll_event().is_some() {
        queued += 1;
    }
    assert_eq!(queued, 100);
    assert!(demux.counters().events_dropped > 0);
    assert_eq!(demux.counters().klv_packets, 500, "counters keep counting");
}

#[test]
fn a_pmt_declaring_many_klv_streams_is_bounded() {
    use redoubt_fmv::ts::{Descriptor, ElementaryStream, Packetizer, Pat, PatEntry, Pid, Pmt};
    let pmt_pid = Pid::new(0x1000).unwrap();
    let pat = Pat {
        transport_stream_id: 1,
        version: 0,
        programs: vec![PatEntry { program_number: 1, pid: pmt_pid }],
    };
    let streams = (0..40u16)
        .map(|i| ElementaryStream {
            stream_type: 0x06,
            pid: Pid::new(0x200 + i).unwrap(),
            descriptors: vec![Descriptor::registration(*b"KLVA")],
        })
        .collect();
    let pmt = Pmt {
        program_number: 1,
        version: 0,
        pcr_pid: Pid::new(0x200).unwrap(),
        descriptors: vec![],
        streams,
    };
    let mut ts = Vec::new();
    Packetizer::new(Pid::PAT).section(&pat.encode(), &mut ts);
    Packetizer::new(pmt_pid).section(&pmt.encode(), &mut ts);
    let mut demux = Demux::new(DemuxConfig { max_klv_streams: 16, ..DemuxConfig::default() });
    demux.handle_bytes(&ts);
    demux.handle_end();
    assert_eq!(demux.klv_streams().count(), 16);
    assert_eq!(demux.counters().streams_ignored, 24);
}
