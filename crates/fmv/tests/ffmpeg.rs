//! Black-box interop with FFmpeg (Debian package, installed by scripts/install-test-deps): streams FFmpeg muxes
//! from an H.264 test source plus KLV made here demux with the right PIDs, no continuity errors, and exactly the
//! KLV packets put in; and FFmpeg reads the streams this crate's muxer writes. Missing ffmpeg fails the tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly"
)]

mod common;

use std::path::Path;
use std::process::Command;

use redoubt_fmv::PrecisionTime;
use redoubt_fmv::Timestamp90k;
use redoubt_fmv::st0601::UasDatalinkWriter;
use redoubt_fmv::ts::{ChecksumPolicy, Event, KlvCarriage, KlvPayload, KlvShape, Muxer, MuxerConfig};

/// `count` distinct ST 0601 packets, 40 ms apart.
fn klv_packets(count: u64) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut w = UasDatalinkWriter::new();
            w.precision_time(PrecisionTime(1_231_798_102_000_000 + i * 40_000))
                .text(3, "REDOUBT-FFMPEG")
                .quantity(13, 50.0 + i as f64 * 1e-4)
                .unwrap()
                .quantity(14, 5.0)
                .unwrap()
                .version(17);
            w.finish()
        })
        .collect()
}

fn mux(shape: KlvShape, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut muxer = Muxer::new(MuxerConfig { shape, ..MuxerConfig::default() });
    let mut out = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        if i % 10 == 0 {
            muxer.tables(&mut out);
        }
        muxer.klv(Timestamp90k(90_000 + i as u64 * 3600), p, &mut out);
    }
    out
}

fn ffmpeg(args: &[&str]) {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("ffmpeg is needed for this test ({e}); run scripts/install-test-deps"));
    assert!(output.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

fn klv_out(path: &Path) -> (Vec<Vec<u8>>, Vec<Event>, redoubt_fmv::ts::Counters) {
    let bytes = std::fs::read(path).unwrap();
    let (events, demux) = common::demux_bytes(&bytes, 1316, ChecksumPolicy::Strict);
    let klv = events
        .iter()
        .filter_map(|e| match e {
            Event::Klv(k) => match &k.payload {
                KlvPayload::Uas(set) => Some(set.as_bytes().to_vec()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    (klv, events, *demux.counters())
}

#[test]
fn ffmpeg_muxes_h264_and_our_klv_and_we_demux_it() {
    let dir = tempfile::tempdir().unwrap();
    let packets = klv_packets(25);
    let source = dir.path().join("klv.ts");
    std::fs::write(&source, mux(KlvShape::AsynchronousWithPts, &packets)).unwrap();
    let out = dir.path().join("out.ts");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=25",
        "-i",
        source.to_str().unwrap(),
        "-map",
        "0:v",
        "-map",
        "1:d",
        "-t",
        "1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
        "-c:d",
        "copy",
        "-f",
        "mpegts",
        out.to_str().unwrap(),
    ]);
    let (klv, events, counters) = klv_out(&out);
    assert_eq!(
        (counters.cc_errors, counters.klv_errors, counters.checksum_errors, counters.skipped_bytes),
        (0, 0, 0, 0)
    );
    let pmt = events.iter().find_map(|e| if let Event::Pmt(p) = e { Some(p) } else { None }).unwrap();
    let streams: Vec<(u16, u8, Option<KlvCarriage>)> =
        pmt.streams.iter().map(|s| (s.pid.value(), s.stream_type, s.klv_carriage())).collect();
    assert_eq!(streams, [(0x100, 0x1B, None), (0x101, 0x06, Some(KlvCarriage::Asynchronous))]);
    assert_eq!(klv, packets, "the KLV packets put in come out, in order, byte for byte");
    assert!(events.iter().any(|e| matches!(e, Event::Pes(p) if p.pid.value() == 0x100 && p.pts.is_some())));
}

#[test]
fn ffmpeg_relays_the_vendored_stream_unchanged_in_content() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("relay.ts");
    let source = common::data("klv_in_mpegts_async_0x06.ts");
    ffmpeg(&[
        "-i",
        source.to_str().unwrap(),
        "-c",
        "copy",
        "-map",
        "0",
        "-f",
        "mpegts",
        out.to_str().unwrap(),
    ]);
    let (klv, _, counters) = klv_out(&out);
    assert_eq!(counters.cc_errors, 0);
    let expected = common::read("DynamicOnlyMISMMSPacketData.bin");
    assert_eq!(klv.len(), 50);
    assert!(klv.iter().all(|k| *k == expected));
}

#[test]
fn ffmpeg_reads_every_shape_we_write() {
    let dir = tempfile::tempdir().unwrap();
    let packets = klv_packets(10);
    for shape in [KlvShape::Asynchronous, KlvShape::AsynchronousWithPts, KlvShape::Synchronous] {
        let source = dir.path().join(format!("{shape:?}.ts"));
        std::fs::write(&source, mux(shape, &packets)).unwrap();
        // FFmpeg extracts the data stream's packets; they must be our KLV, in order.
        let extracted = dir.path().join(format!("{shape:?}.bin"));
        ffmpeg(&[
            "-i",
            source.to_str().unwrap(),
            "-map",
            "0:d",
            "-c",
            "copy",
            "-f",
            "data",
            extracted.to_str().unwrap(),
        ]);
        let got = std::fs::read(&extracted).unwrap();
        assert_eq!(got, packets.concat(), "{shape:?}");
    }
}
