//! What the FMV end-to-end tests share: the vendored STANAG 4609 stream, a stream whose KLV claims CONFIDENTIAL,
//! free loopback ports, and a collector of received bytes. Each test file keeps its own node set-up.

#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use std::net::UdpSocket;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redoubt_fmv::Timestamp90k;
use redoubt_fmv::st0102::{Classification, SecuritySet};
use redoubt_fmv::st0601::{UasDatalinkWriter, tag};
use redoubt_fmv::ts::{KlvShape, Muxer, MuxerConfig};

/// An MPEG-TS packet.
pub const TS: usize = 188;

/// The vendored STANAG 4609 file (2 s of video with 50 asynchronous KLV packets).
pub fn vendored_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fmv/tests/data/klv_in_mpegts_async_0x06.ts")
}

/// Its bytes.
pub fn vendored_ts() -> Vec<u8> {
    std::fs::read(vendored_path()).unwrap()
}

/// A UDP port free on loopback now.
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A transport stream whose ST 0601 metadata carries an ST 0102 set classifying it CONFIDENTIAL.
pub fn confidential_klv_stream() -> Vec<u8> {
    let mut klv = UasDatalinkWriter::new();
    klv.quantity(tag::SENSOR_LATITUDE, 48.85).unwrap().quantity(tag::SENSOR_LONGITUDE, 2.35).unwrap();
    klv.security(&SecuritySet::new(Classification::Confidential, 7, "//NATO", 12));
    let klv = klv.finish();
    let mut muxer = Muxer::new(MuxerConfig { shape: KlvShape::Synchronous, ..MuxerConfig::default() });
    let mut ts = Vec::new();
    muxer.tables(&mut ts);
    for i in 0..5u64 {
        muxer.klv(Timestamp90k(90_000 + i * 9000), &klv, &mut ts);
    }
    ts
}

/// Bytes received, with the time of each arrival and of the end of the stream.
#[derive(Clone, Default)]
pub struct Collector {
    pub bytes: Arc<Mutex<Vec<u8>>>,
    pub arrivals: Arc<Mutex<Vec<Instant>>>,
    pub ended: Arc<Mutex<Option<Instant>>>,
}

impl Collector {
    pub fn push(&self, b: &[u8]) {
        self.bytes.lock().unwrap().extend_from_slice(b);
        self.arrivals.lock().unwrap().push(Instant::now());
    }
    pub fn len(&self) -> usize {
        self.bytes.lock().unwrap().len()
    }
    pub fn bytes(&self) -> Vec<u8> {
        self.bytes.lock().unwrap().clone()
    }
    /// Waits until `n` bytes arrived, or `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.len() < n && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
