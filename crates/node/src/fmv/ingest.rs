//! Ingest: one UDP socket per stream (loopback unicast, or a multicast group joined on loopback), the relay path
//! and the analysis thread.
//!
//! The relay path (an async task) keeps each datagram's whole TS packets unchanged, counts what it drops, and
//! hands the packets to the stream's broadcast ring. A copy (a reference-counted `Bytes`, no byte copy) goes to
//! the analysis thread through a bounded queue; when that queue is full the copy is dropped and counted.
//! INVARIANT: the relay path never waits for the analysis: `try_send` only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::Instant;

use bytes::Bytes;
use redoubt_fmv::ts::{ChecksumPolicy, Demux, DemuxConfig, Event, KlvPayload};
use redoubt_label::Spif;
use redoubt_policy::Pdp;
use tokio::net::UdpSocket;

use super::config::UdpSource;
use super::label::{LabelChange, apply_security};
use super::stats::filter_datagram;
use super::stream::Stream;

/// Largest datagram read (the UDP maximum; a STANAG 4609 sender writes 1316 bytes).
const MAX_DATAGRAM: usize = 65_536;
/// Datagrams queued for the analysis thread before copies are dropped.
const ANALYSIS_QUEUE: usize = 4096;
/// How long a busy analysis thread sleeps once its queue is empty. While it sleeps instead of blocking, the
/// relay's `try_send` wakes nobody: one futex wake per datagram cost more CPU than the relay itself (perf,
/// `benches/fmv_relay.rs`). At 8 Mbit/s that is 8 datagrams per poll, far below [`ANALYSIS_QUEUE`].
const ANALYSIS_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Binds a stream's socket. A multicast group is joined on the loopback interface only.
pub async fn bind(source: UdpSource) -> std::io::Result<UdpSocket> {
    let addr = source.0;
    let socket = UdpSocket::bind(addr).await?;
    if let IpAddr::V4(group) = addr.ip()
        && group.is_multicast()
    {
        socket.join_multicast_v4(group, Ipv4Addr::LOCALHOST)?;
    }
    Ok(socket)
}

/// What the analysis thread reports back to the node (label changes to audit).
pub type LabelReport = Box<dyn Fn(&Arc<Stream>, &LabelChange) + Send + Sync>;

/// Runs a stream's relay path until the socket fails; starts its analysis thread.
pub async fn run(stream: Arc<Stream>, socket: UdpSocket, pdp: Arc<Pdp>, report: LabelReport) {
    let to_analysis = start_analysis(&stream, pdp, report);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let n = match socket.recv_from(&mut buf).await {
            Ok((n, _from)) => n,
            Err(e) => {
                // ICMP errors and the like on a UDP socket are not fatal; a persistent error must not spin.
                tracing::debug!(stream = %stream.id, error = %e, "receive failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        receive(&stream, &to_analysis, Bytes::copy_from_slice(buf.get(..n).unwrap_or_default()));
    }
}

/// Starts a stream's analysis thread; the sender is what [`receive`] hands copies to.
pub fn start_analysis(stream: &Arc<Stream>, pdp: Arc<Pdp>, report: LabelReport) -> mpsc::SyncSender<Bytes> {
    let (to_analysis, analysis_rx) = mpsc::sync_channel::<Bytes>(ANALYSIS_QUEUE);
    let analysed = stream.clone();
    let spawned = std::thread::Builder::new().name(format!("fmv-{}", stream.id)).spawn(move || {
        lower_priority(&analysed.id);
        analyse(&analysed, &analysis_rx, pdp.spif(), &report)
    });
    if let Err(e) = spawned {
        tracing::error!(stream = %stream.id, error = %e, "cannot start the analysis thread: relaying without it");
    }
    to_analysis
}

/// How much less CPU priority an analysis thread has than the relay (a nice value): under contention the
/// scheduler runs the relay first, and the analysis catches up from its queue (or drops, counted).
const ANALYSIS_NICE: i32 = 10;

/// Lowers the calling (analysis) thread's priority; telemetry is best effort, the relay is real time.
fn lower_priority(stream: &str) {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), ANALYSIS_NICE) {
        tracing::debug!(stream, error = %e, "cannot lower the analysis thread's priority");
    }
}

/// The relay path for one received datagram (a UDP datagram or an SRT message): counts it, hands a copy to the
/// analysis thread without waiting, and puts its whole packets on the ring.
pub fn receive(stream: &Stream, to_analysis: &mpsc::SyncSender<Bytes>, datagram: Bytes) {
    let n = datagram.len();
    let c = &stream.ingest;
    c.datagrams.fetch_add(1, Ordering::Relaxed);
    c.bytes.fetch_add(n as u64, Ordering::Relaxed);
    if let Ok(mut meter) = c.bitrate.lock() {
        meter.add(Instant::now(), n as u64 * 8);
    }
    if to_analysis.try_send(datagram.clone()).is_err() {
        c.analysis_dropped.fetch_add(1, Ordering::Relaxed);
    }
    let filtered = filter_datagram(datagram);
    c.packets.fetch_add(filtered.count, Ordering::Relaxed);
    c.dropped_bytes.fetch_add(filtered.dropped_bytes, Ordering::Relaxed);
    if let Some(packets) = filtered.packets {
        stream.relay(packets);
    }
}

/// The analysis thread: demultiplexes a copy of everything received, keeps the telemetry and applies the
/// stream's own security metadata to its label.
fn analyse(stream: &Arc<Stream>, rx: &mpsc::Receiver<Bytes>, spif: &Spif, report: &LabelReport) {
    // Strict checksums (ST 0601): a packet with a wrong checksum is counted and not believed.
    let mut demux =
        Demux::new(DemuxConfig { checksum_policy: ChecksumPolicy::Strict, ..DemuxConfig::default() });
    // Busy: something arrived since the last sleep. An idle stream blocks (one wake when data comes back).
    let mut busy = false;
    loop {
        let datagram = match rx.try_recv() {
            Ok(d) => d,
            Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) if busy => {
                busy = false;
                std::thread::sleep(ANALYSIS_POLL);
                continue;
            }
            Err(mpsc::TryRecvError::Empty) => match rx.recv() {
                Ok(d) => d,
                Err(_) => return,
            },
        };
        busy = true;
        demux.handle_bytes(&datagram);
        let now = Instant::now();
        let mut klv = 0u64;
        let mut sets = Vec::new();
        stream.with_analysis(|a| {
            while let Some(event) = demux.poll_event() {
                if let Event::Klv(k) = event {
                    klv += 1;
                    match k.payload {
                        KlvPayload::Uas(set) => {
                            a.telemetry.update(&set);
                            if let Some(p) = set.sensor_position() {
                                a.track.push(p);
                            }
                            if let Some(Ok(security)) = set.security() {
                                sets.push(security);
                            }
                        }
                        KlvPayload::Security(security) => sets.push(security),
                        KlvPayload::Other { .. } => {}
                    }
                }
            }
            a.counters = *demux.counters();
            a.klv_rate.add(now, klv);
            if klv > 0 {
                a.last_klv = Some(now);
            }
        });
        for set in sets {
            let change = apply_security(&stream.label(), &set, spif);
            match &change {
                LabelChange::Same => continue,
                LabelChange::Noted(l) => stream.set_label(l.clone(), false),
                LabelChange::Raised(l) | LabelChange::Quarantined(l) => stream.set_label(l.clone(), true),
            }
            report(stream, &change);
        }
    }
}

/// A non-blocking loopback socket connected to a UDP subscriber, written by the relay path
/// ([`Stream::relay`]).
pub fn sender(destination: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let local: SocketAddr = match destination {
        SocketAddr::V4(_) => (Ipv4Addr::LOCALHOST, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::LOCALHOST, 0).into(),
    };
    let socket = std::net::UdpSocket::bind(local)?;
    socket.connect(destination)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}
