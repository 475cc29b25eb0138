//! What the FMV relay benchmarks share (`fmv_relay`, UDP against GStreamer; `fmv_srt`, SRT against
//! `srt-live-transmit`): the paced, stamped load of 20 streams × 8 Mbit/s, the receivers that take latency and loss,
//! the CPU accounting of the relay processes, and the per-round printing and median verdicts.
//!
//! The load: one sender thread paces `STREAMS` streams of 1316-byte datagrams (7 TS packets of a private PID,
//! 0x0100, continuity counters kept) to the relay's UDP ports. The first packet's payload carries the stream index,
//! a sequence number and the send time (nanoseconds of a monotonic clock shared with the receivers, read just
//! before `send_to`). One receiver thread per stream reads what the relay delivers and takes latency = receive
//! time − send time. Loss counts distinct sequence numbers sent during the measurement and never received.

#![allow(dead_code, reason = "each bench program uses a different part of this module")]

use std::net::UdpSocket;
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Streams relayed at once.
pub const STREAMS: usize = 20;
/// Bit rate of each stream.
pub const BITRATE: f64 = 8_000_000.0;
/// An MPEG-TS packet.
pub const TS: usize = 188;
/// One datagram: 7 TS packets.
pub const DATAGRAM: usize = 7 * TS;
/// The private PID of the load.
pub const PID: u16 = 0x0100;
/// Load sent before the measurement starts.
pub const WARMUP: Duration = Duration::from_secs(1);
/// Payload offset of the stamp in the first packet: after the 4-byte TS header.
pub const STAMP: usize = 4;

/// The sending time base shared by the sender and the receivers.
pub fn ns_since(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

/// A datagram of 7 TS packets of `PID`, payload only, continuity counters `cc..cc+7`, filled with 0xFF.
pub fn datagram_template() -> Vec<u8> {
    let mut d = vec![0xFFu8; DATAGRAM];
    for p in 0..7 {
        let h = &mut d[p * TS..p * TS + 4];
        h[0] = 0x47;
        h[1] = 0x40 | (PID >> 8) as u8; // payload unit start, PID high bits
        h[2] = (PID & 0xFF) as u8;
        h[3] = 0x10; // payload only, cc set per send
    }
    d
}

/// `n` distinct free loopback UDP ports. The sockets are held until all are drawn: a port drawn and released one
/// at a time can come back twice, and two relays (`udpsrc` binds with address reuse) on one port mix two streams.
pub fn free_udp_ports(n: usize) -> Vec<u16> {
    let held: Vec<UdpSocket> = (0..n).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    held.iter().map(|s| s.local_addr().unwrap().port()).collect()
}

/// The peer's (or feeders') processes of one measurement, killed when dropped (also when the program fails).
pub struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Children {
    /// The processes' ids.
    pub fn pids(&self) -> Vec<u32> {
        self.0.iter().map(Child::id).collect()
    }
}

/// One stream's receiver: its socket and port.
pub struct Receiver {
    socket: UdpSocket,
    /// The loopback port the relay sends to.
    pub port: u16,
}

impl Receiver {
    /// Binds a receiver on a free loopback port.
    pub fn new() -> Receiver {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
        let port = socket.local_addr().unwrap().port();
        Receiver { socket, port }
    }

    /// One receiver per stream.
    pub fn all() -> Vec<Receiver> {
        (0..STREAMS).map(|_| Receiver::new()).collect()
    }
}

/// Figures of one relay.
pub struct Figures {
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    pub loss: f64,
    /// CPU per stream, in % of one core.
    pub cpu_pct: Option<f64>,
    /// Distinct datagrams received during the measurement.
    pub received: u64,
    /// Datagrams sent in all, readiness and warm-up included.
    pub sent_total: u64,
}

/// How long `measure` waits for every stream's first datagram to come through the relay.
pub const READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends the load to `targets` (one port per stream) and collects it at `receivers`, measuring for `duration`
/// after the warm-up; `cpu` reads the relay's CPU time so far. After the last send the receivers go on for
/// `stragglers` (what is still in flight then is counted as lost).
pub fn measure(
    targets: &[u16],
    receivers: Vec<Receiver>,
    duration: Duration,
    stragglers: Duration,
    cpu: &dyn Fn() -> Option<Duration>,
) -> Figures {
    let base = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    // Datagrams sent at or after this time (ns since `base`) are measured; u64::MAX until the warm-up ends.
    let measure_from = Arc::new(AtomicU64::new(u64::MAX));
    let seen: Vec<Arc<AtomicU64>> = (0..STREAMS).map(|_| Arc::new(AtomicU64::new(0))).collect();
    let mut handles = Vec::new();
    for (i, r) in receivers.into_iter().enumerate() {
        let (stop, measure_from, seen) = (stop.clone(), measure_from.clone(), seen[i].clone());
        handles.push(std::thread::spawn(move || {
            let mut latencies: Vec<u64> = Vec::with_capacity(1 << 14);
            let mut seqs: Vec<u64> = Vec::with_capacity(1 << 14);
            let mut buf = vec![0u8; 65536];
            while !stop.load(Ordering::Relaxed) {
                let Ok(n) = r.socket.recv(&mut buf) else { continue };
                let now = ns_since(base);
                seen.fetch_add(1, Ordering::Relaxed);
                if n != DATAGRAM {
                    continue;
                }
                let stamp = &buf[STAMP..STAMP + 24];
                let stream = u64::from_le_bytes(stamp[0..8].try_into().unwrap());
                let seq = u64::from_le_bytes(stamp[8..16].try_into().unwrap());
                let sent = u64::from_le_bytes(stamp[16..24].try_into().unwrap());
                assert_eq!(stream, i as u64, "a datagram of another stream arrived");
                if sent >= measure_from.load(Ordering::Relaxed) {
                    latencies.push(now.saturating_sub(sent));
                    seqs.push(seq);
                }
            }
            seqs.sort_unstable();
            seqs.dedup();
            (latencies, seqs.len() as u64)
        }));
    }

    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut template = datagram_template();
    let mut cc = [0u8; STREAMS];
    let mut seq = [0u64; STREAMS];
    let send = |i: usize, template: &mut Vec<u8>, cc: &mut [u8; STREAMS], seq: &mut [u64; STREAMS]| {
        for p in 0..7 {
            template[p * TS + 3] = 0x10 | (cc[i] & 0x0F);
            cc[i] = cc[i].wrapping_add(1);
        }
        template[STAMP..STAMP + 8].copy_from_slice(&(i as u64).to_le_bytes());
        template[STAMP + 8..STAMP + 16].copy_from_slice(&seq[i].to_le_bytes());
        seq[i] += 1;
        let now = ns_since(base);
        template[STAMP + 16..STAMP + 24].copy_from_slice(&now.to_le_bytes());
        // A refused send (nobody bound yet) is loss, not an error.
        let _ = socket.send_to(template, ("127.0.0.1", targets[i]));
    };

    // Readiness: a datagram to every stream every 20 ms until every receiver has seen one (relays start).
    let ready_deadline = Instant::now() + READY_TIMEOUT;
    while seen.iter().any(|s| s.load(Ordering::Relaxed) == 0) {
        assert!(Instant::now() < ready_deadline, "a relay never forwarded its first datagram");
        for i in 0..STREAMS {
            send(i, &mut template, &mut cc, &mut seq);
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    // The paced load: datagram k (all streams interleaved) is due at k / rate.
    let per_stream = BITRATE / (DATAGRAM * 8) as f64;
    let interval = Duration::from_secs_f64(1.0 / (per_stream * STREAMS as f64));
    let start = Instant::now();
    let warm_end = start + WARMUP;
    let end = warm_end + duration;
    let mut sent_from: Option<[u64; STREAMS]> = None;
    let mut cpu_from = None;
    let mut k: u64 = 0;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if sent_from.is_none() && now >= warm_end {
            sent_from = Some(seq);
            cpu_from = cpu().map(|c| (c, Instant::now()));
            measure_from.store(ns_since(base), Ordering::Relaxed);
        }
        while start + interval.mul_f64(k as f64) <= now {
            send((k % STREAMS as u64) as usize, &mut template, &mut cc, &mut seq);
            k += 1;
        }
        let next = start + interval.mul_f64(k as f64);
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    let cpu_pct = cpu_from.and_then(|(c0, t0)| {
        let c1 = cpu()?;
        let wall = t0.elapsed().as_secs_f64();
        Some((c1 - c0).as_secs_f64() / wall / STREAMS as f64 * 100.0)
    });
    let sent_from = sent_from.unwrap();
    std::thread::sleep(stragglers);
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let (mut expected, mut received) = (0u64, 0u64);
    for (i, h) in handles.into_iter().enumerate() {
        let (lat, distinct) = h.join().unwrap();
        all.extend(lat);
        received += distinct;
        expected += seq[i] - sent_from[i];
    }
    all.sort_unstable();
    let pct = |p: f64| {
        if all.is_empty() {
            f64::NAN
        } else {
            all[((all.len() - 1) as f64 * p).round() as usize] as f64 / 1000.0
        }
    };
    Figures {
        p50_us: pct(0.5),
        p99_us: pct(0.99),
        max_us: pct(1.0),
        loss: 1.0 - received as f64 / expected as f64,
        cpu_pct,
        received,
        sent_total: seq.iter().sum(),
    }
}

/// CPU time of every thread of the processes so far (`/proc/PID/task/*/schedstat`, nanoseconds).
pub fn processes_cpu(pids: &[u32]) -> Duration {
    let mut ns: u64 = 0;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
                ns += text.split_whitespace().next().and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    Duration::from_nanos(ns)
}

/// Prints one round's table, one row per relay.
pub fn print_rows(names: &[&str], rows: &[Figures]) {
    println!(
        "  {:<28} {:>9} {:>9} {:>10} {:>8} {:>12} {:>10}",
        "relay", "p50 µs", "p99 µs", "max µs", "loss %", "CPU %/stream", "received"
    );
    for (name, f) in names.iter().zip(rows) {
        println!(
            "  {:<28} {:>9.0} {:>9.0} {:>10.0} {:>8.3} {:>12} {:>10}",
            name,
            f.p50_us,
            f.p99_us,
            f.max_us,
            f.loss * 100.0,
            f.cpu_pct.map_or("-".to_owned(), |c| format!("{c:.3}")),
            f.received
        );
    }
}

/// The median of column `j` over the rounds' ratios.
pub fn median<const N: usize>(ratios: &[[f64; N]], j: usize) -> f64 {
    let mut v: Vec<f64> = ratios.iter().map(|r| r[j]).collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// "met" when `x` is at most `goal`.
pub fn verdict(x: f64, goal: f64) -> &'static str {
    if x <= goal { "met" } else { "NOT met" }
}
