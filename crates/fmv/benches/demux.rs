//! Demux + KLV decode throughput on one core, as a program (STYLE.md rule 13): the vendored STANAG 4609 stream
//! (MPEG-2 video + 25 ST 0601 packets/s) looped, fed as 1316-byte datagrams and as 188-byte packets, with every
//! event drained. Prints Mbit/s, packets/s and the ratio to one 8 Mbit/s stream: how many streams one core could
//! observe. Also ST 0601 packet decode (parse + every item typed) per second.
//!
//! Run: `cargo bench -p redoubt-fmv --bench demux`

#![allow(clippy::print_stdout, reason = "a benchmark program prints its figures")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use redoubt_fmv::st0601::UasDatalinkSet;
use redoubt_fmv::ts::{Demux, Event};

const STREAM_RATE_BPS: f64 = 8_000_000.0;

fn load(name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name))
}

/// How the bytes reach the demux.
#[derive(Clone, Copy)]
enum Feed {
    /// `handle_bytes` with datagrams of this size.
    Datagrams(usize),
    /// `handle_packet` per 188-byte packet.
    Packets,
}

/// Feeds the stream, draining events after each call, until `budget` has elapsed; returns (bytes, KLV packets,
/// elapsed).
fn measure(ts: &[u8], budget: Duration, feed: Feed) -> (u64, u64, Duration) {
    let start = Instant::now();
    let (mut bytes, mut klv) = (0u64, 0u64);
    let mut drain = |demux: &mut Demux| {
        while let Some(event) = demux.poll_event() {
            if matches!(event, Event::Klv(_)) {
                klv += 1;
            }
            black_box(event);
        }
    };
    while start.elapsed() < budget {
        // A fresh demux per loop: each pass is the 2 s stream from its start (PAT, PMT, continuity).
        let mut demux = Demux::default();
        match feed {
            Feed::Datagrams(size) => ts.chunks(size).for_each(|d| {
                demux.handle_bytes(d);
                drain(&mut demux);
            }),
            Feed::Packets => ts.chunks(188).for_each(|p| {
                demux.handle_packet(p);
                drain(&mut demux);
            }),
        }
        demux.handle_end();
        drain(&mut demux);
        bytes += ts.len() as u64;
    }
    (bytes, klv, start.elapsed())
}

fn report(label: &str, (bytes, klv, elapsed): (u64, u64, Duration)) {
    let secs = elapsed.as_secs_f64();
    let mbps = bytes as f64 * 8.0 / secs / 1e6;
    let pps = bytes as f64 / 188.0 / secs;
    println!(
        "{label:<34} {mbps:>9.1} Mbit/s {pps:>12.0} packets/s {:>9.0} KLV/s  = {:>6.1} x an 8 Mbit/s stream",
        klv as f64 / secs,
        mbps * 1e6 / STREAM_RATE_BPS
    );
}

fn main() -> std::io::Result<()> {
    let ts = load("klv_in_mpegts_async_0x06.ts")?;
    let klv = load("DynamicOnlyMISMMSPacketData.bin")?;
    let budget = Duration::from_secs(3);
    println!(
        "stream: {} bytes ({} packets, 2 s of video + 50 ST 0601 packets), looped for {budget:?}",
        ts.len(),
        ts.len() / 188
    );

    // Warm-up, then the two entry points side by side in one run.
    measure(&ts, Duration::from_millis(300), Feed::Datagrams(1316));
    report("demux+KLV, 1316-byte datagrams", measure(&ts, budget, Feed::Datagrams(1316)));
    report("demux+KLV, 188-byte packets", measure(&ts, budget, Feed::Packets));

    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..1000 {
            let set = UasDatalinkSet::parse(black_box(&klv)).ok();
            if let Some(set) = set {
                for item in set.decoded() {
                    black_box(item.value.ok());
                }
            }
            n += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "{:<34} {rate:>9.0} packets/s (114-byte ST 0601, every item typed) = {:.0} x a 25 Hz KLV stream",
        "ST 0601 decode",
        rate / 25.0
    );
    Ok(())
}
