//! Conformance: the vendored klvdata packets and KLV-in-TS stream decode to the values the digest gives.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use redoubt_fmv::klv::UniversalKey;
use redoubt_fmv::st0102::Classification;
use redoubt_fmv::st0601::{ChecksumStatus, UasDatalinkSet, Unit, Value};
use redoubt_fmv::ts::{ChecksumPolicy, Event, KlvCarriage, KlvPayload, Pid};

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

#[test]
fn dynamic_only_packet_matches_the_digest() {
    let set = UasDatalinkSet::parse(&common::read("DynamicOnlyMISMMSPacketData.bin")).unwrap();
    assert_eq!(set.as_bytes().len(), 114);
    assert_eq!(set.checksum(), ChecksumStatus::Valid(0xC850));
    assert_eq!(set.precision_time().unwrap().to_string(), "2009-01-12T22:08:22.000000Z");
    assert!(close(set.quantity(5).unwrap(), 159.974, 1e-3));
    let sensor = set.sensor_position().unwrap();
    assert!(close(sensor.latitude, 60.176822966978335, 1e-12), "{sensor:?}");
    assert!(close(sensor.longitude, 128.42675904204452, 1e-12), "{sensor:?}");
    assert!(close(sensor.altitude.unwrap(), 14190.72, 5e-3), "{sensor:?}");
    assert_eq!(set.version(), Some(6));
    assert!(matches!(set.value(13), Some(Ok(Value::Quantity { unit: Unit::Degrees, .. }))));
    // Every item is kept, in order, and the checksum is last.
    let tags: Vec<u32> = set.items().map(|i| i.tag).collect();
    assert_eq!(tags.first(), Some(&2));
    assert_eq!(tags.last(), Some(&1));
}

#[test]
fn dynamic_constant_packet_has_the_known_bad_checksum_and_a_security_set() {
    let set = UasDatalinkSet::parse(&common::read("DynamicConstantMISMMSPacketData.bin")).unwrap();
    assert_eq!(set.as_bytes().len(), 228);
    assert_eq!(set.checksum(), ChecksumStatus::Mismatch { stored: 0xAA43, computed: 0x3E1E });
    assert_eq!(set.mission_id().as_deref(), Some("Mission 12"));
    let security = set.security().unwrap().unwrap();
    assert_eq!(security.classification(), Some(Classification::Unclassified));
    assert_eq!(security.classifying_country(), Some("//USA"));
    assert_eq!(security.object_country_codes().as_deref(), Some("USA"));
    assert_eq!(security.version(), Some(10));
    assert!(set.raw(94).is_some_and(|v| v.len() == 34));
}

#[test]
fn digest_full_packet() {
    let bytes =
        common::hex("060E2B34020B01010E01030101000000 14 0D043C4EADFA 0E04CD6B784E 0F021BC4 01022DC4");
    assert_eq!(bytes.len(), 37);
    let set = UasDatalinkSet::parse(&bytes).unwrap();
    assert_eq!(set.checksum(), ChecksumStatus::Valid(0x2DC4));
    let p = set.sensor_position().unwrap();
    assert!(close(p.latitude, 42.40360, 5e-6) && close(p.longitude, -71.12840, 5e-6));
    assert!(close(p.altitude.unwrap(), 1258.38, 5e-3));
}

#[test]
fn klv_in_mpegts_async_0x06() {
    let ts = common::read("klv_in_mpegts_async_0x06.ts");
    let packet = common::read("DynamicOnlyMISMMSPacketData.bin");
    let (events, demux) = common::demux_bytes(&ts, 1316, ChecksumPolicy::Strict);
    let c = demux.counters();
    assert_eq!(c.packets as usize * 188, ts.len());
    assert_eq!(
        (c.cc_errors, c.checksum_errors, c.klv_errors, c.pes_errors, c.psi_errors),
        (0, 0, 0, 0, 0),
        "{c:?}"
    );
    assert_eq!(c.skipped_bytes, 0);

    let pmt = events.iter().find_map(|e| if let Event::Pmt(p) = e { Some(p) } else { None }).unwrap();
    let pids: Vec<(u16, u8)> = pmt.streams.iter().map(|s| (s.pid.value(), s.stream_type)).collect();
    assert_eq!(pids, [(0x100, 0x02), (0x101, 0x06)]);
    assert_eq!(pmt.streams[1].klv_carriage(), Some(KlvCarriage::Asynchronous));
    assert_eq!(
        demux.klv_streams().collect::<Vec<_>>(),
        [(Pid::new(0x101).unwrap(), KlvCarriage::Asynchronous)]
    );

    let klv: Vec<_> =
        events.iter().filter_map(|e| if let Event::Klv(k) = e { Some(k) } else { None }).collect();
    assert_eq!(klv.len(), 50);
    assert_eq!(c.klv_packets, 50);
    for k in &klv {
        assert_eq!(k.pid.value(), 0x101);
        assert!(k.pts.is_some(), "FFmpeg writes a PTS");
        match &k.payload {
            KlvPayload::Uas(set) => {
                assert_eq!(set.as_bytes(), &packet[..]);
                assert!(set.checksum().is_valid());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    // PTS strictly increase over the 2 s stream.
    assert!(klv.windows(2).all(|w| w[0].pts < w[1].pts));
    assert!(events.iter().any(|e| matches!(e, Event::Pes(p) if p.pid.value() == 0x100)));
}

#[test]
fn the_same_events_whatever_the_chunking() {
    let ts = common::read("klv_in_mpegts_async_0x06.ts");
    let (reference, _) = common::demux_bytes(&ts, 188, ChecksumPolicy::Strict);
    for chunk in [1, 7, 187, 189, 1316, 65536] {
        let (events, _) = common::demux_bytes(&ts, chunk, ChecksumPolicy::Strict);
        assert_eq!(events, reference, "chunk {chunk}");
    }
    // And the packet entry point agrees with the byte entry point.
    let mut demux = redoubt_fmv::ts::Demux::default();
    let mut events = Vec::new();
    for p in ts.chunks(188) {
        demux.handle_packet(p);
        while let Some(e) = demux.poll_event() {
            events.push(e);
        }
    }
    demux.handle_end();
    while let Some(e) = demux.poll_event() {
        events.push(e);
    }
    assert_eq!(events, reference);
}

#[test]
fn keys_are_the_digest_keys() {
    assert_eq!(UniversalKey::UAS_DATALINK.0, common::hex("060E2B34020B01010E01030101000000")[..]);
    assert_eq!(UniversalKey::SECURITY.0, common::hex("060E2B34020301010E01030302000000")[..]);
}
