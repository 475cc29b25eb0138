//! Property tests: what the encoders write, the decoders read back — BER, local sets, ST 0601 and ST 0102 sets,
//! PES and whole transport streams in every KLV shape, however the bytes are chunked; arbitrary input never panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use proptest::prelude::*;
use redoubt_fmv::klv::{KlvPacket, LocalSetWriter, UniversalKey, local_items, write_klv};
use redoubt_fmv::st0102::{Classification, SecurityMarking, SecuritySet};
use redoubt_fmv::st0601::{UasDatalinkSet, UasDatalinkWriter, tag_info};
use redoubt_fmv::ts::{ChecksumPolicy, Demux, Event, KlvPayload, KlvShape, Muxer, MuxerConfig};
use redoubt_fmv::{PrecisionTime, Timestamp90k};

fn shape() -> impl Strategy<Value = KlvShape> {
    prop_oneof![
        Just(KlvShape::Asynchronous),
        Just(KlvShape::AsynchronousWithPts),
        Just(KlvShape::Synchronous)
    ]
}

fn items() -> impl Strategy<Value = Vec<(u32, Vec<u8>)>> {
    // Tag 1 is the checksum (written by the writer) and tag 48 is checked separately.
    prop::collection::vec(
        ((2u32..300).prop_filter("not 48", |t| *t != 48), prop::collection::vec(any::<u8>(), 0..300)),
        0..20,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn klv_packets_round_trip(key in any::<[u8; 16]>(), value in prop::collection::vec(any::<u8>(), 0..70_000)) {
        let mut key = key;
        key[..4].copy_from_slice(&[0x06, 0x0E, 0x2B, 0x34]);
        let mut out = Vec::new();
        write_klv(&UniversalKey(key), &value, &mut out);
        let p = KlvPacket::parse(&out).unwrap();
        prop_assert_eq!(p.key, UniversalKey(key));
        prop_assert_eq!(p.value, &value[..]);
    }

    #[test]
    fn local_sets_round_trip(items in items()) {
        let mut w = LocalSetWriter::new();
        for (tag, value) in &items {
            w.item(*tag, value);
        }
        let parsed: Vec<(u32, Vec<u8>)> = local_items(w.as_bytes()).unwrap().iter().map(|i| (i.tag, i.value.to_vec())).collect();
        prop_assert_eq!(parsed, items);
    }

    #[test]
    fn st0601_packets_round_trip(items in items(), micros in any::<u64>(), lat in -90.0f64..90.0, heading in 0.0f64..360.0) {
        let mut w = UasDatalinkWriter::new();
        w.precision_time(PrecisionTime(micros));
        w.quantity(13, lat).unwrap().quantity(5, heading).unwrap();
        for (tag, value) in &items {
            w.raw(*tag, value);
        }
        let bytes = w.finish();
        let set = UasDatalinkSet::parse(&bytes).unwrap();
        prop_assert!(set.checksum().is_valid());
        prop_assert_eq!(set.precision_time(), Some(PrecisionTime(micros)));
        // Quantisation: one step of the 32-bit latitude and 16-bit heading mappings.
        prop_assert!((set.quantity(13).unwrap() - lat).abs() <= 90.0 / f64::from(i32::MAX));
        prop_assert!((set.quantity(5).unwrap() - heading).abs() <= 360.0 / 65535.0);
        let raw: Vec<(u32, Vec<u8>)> = set.items().skip(3).filter(|i| i.tag != 1).map(|i| (i.tag, i.value.to_vec())).collect();
        prop_assert_eq!(raw, items);
        // Every item decodes or says why not; never a panic.
        for item in set.decoded() {
            prop_assert_eq!(item.info.name, tag_info(item.info.tag).name);
            let _ = item.value.map(|v| v.to_string());
        }
    }

    #[test]
    fn st0102_sets_and_markings_round_trip(
        code in 1u8..=5,
        country in "[A-Z]{3}",
        rel in prop::collection::vec("[A-Z]{3}", 0..5),
        caveats in prop::collection::vec("[A-Z]{2,8}", 0..4),
    ) {
        let marking = SecurityMarking {
            classification: Classification::from_code(code).unwrap(),
            classifying_country: country,
            country_coding_method: 2,
            marking_system: None,
            releasable_to: rel,
            caveats,
        };
        let set = marking.to_security_set();
        prop_assert_eq!(SecuritySet::parse_standalone(&set.encode_standalone()).unwrap(), set.clone());
        prop_assert_eq!(SecuritySet::parse_nested(&set.encode_nested()).unwrap(), set.clone());
        let mut w = UasDatalinkWriter::new();
        w.security(&set);
        let uas = UasDatalinkSet::parse(&w.finish()).unwrap();
        let nested = uas.security().unwrap().unwrap();
        prop_assert_eq!(SecurityMarking::try_from(&nested).unwrap(), marking);
    }

    #[test]
    fn transport_streams_round_trip_in_every_shape(
        shape in shape(),
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..1500), 1..12),
        chunk in 1usize..3000,
    ) {
        let packets: Vec<Vec<u8>> = payloads
            .iter()
            .enumerate()
            .map(|(i, extra)| {
                let mut w = UasDatalinkWriter::new();
                w.precision_time(PrecisionTime(i as u64)).raw(94, extra);
                w.finish()
            })
            .collect();
        let mut muxer = Muxer::new(MuxerConfig { shape, ..MuxerConfig::default() });
        let mut ts = Vec::new();
        muxer.tables(&mut ts);
        for (i, p) in packets.iter().enumerate() {
            muxer.klv(Timestamp90k(i as u64 * 3000), p, &mut ts);
        }
        let (events, demux) = common::demux_bytes(&ts, chunk, ChecksumPolicy::Strict);
        let got: Vec<Vec<u8>> = events
            .iter()
            .filter_map(|e| match e {
                Event::Klv(k) => match &k.payload {
                    KlvPayload::Uas(s) => Some(s.as_bytes().to_vec()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        prop_assert_eq!(got, packets);
        let c = demux.counters();
        prop_assert_eq!((c.cc_errors, c.klv_errors, c.pes_errors, c.psi_errors, c.skipped_bytes), (0, 0, 0, 0, 0));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4000), chunk in 1usize..500) {
        let mut demux = Demux::default();
        for piece in bytes.chunks(chunk) {
            demux.handle_bytes(piece);
            while demux.poll_event().is_some() {}
        }
        demux.handle_end();
        let _ = UasDatalinkSet::parse(&bytes);
        let _ = SecuritySet::parse_standalone(&bytes);
        let _ = SecuritySet::parse_nested(&bytes);
    }
}
