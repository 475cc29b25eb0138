//! One ingested stream's shared state: its label, the relay channel subscribers read from, and its live
//! statistics. The ingest task writes the relay counters; the analysis thread writes the demultiplexer's
//! counters, the telemetry and the label; HTTP handlers and subscribers read.
//!
//! INVARIANT: the relay channel is a broadcast ring: the sender never waits for a receiver, and a receiver that
//! falls behind loses the oldest datagrams (counted as its drops), so a slow subscriber never slows the others.
//!
//! UDP subscribers take a shorter path: the ingest task writes each datagram to their sockets itself (a
//! non-blocking `send`; a full socket buffer is a drop, counted), with no hand-off to another task, which saves a
//! wake-up per datagram and subscriber and keeps the relay's tail latency down. INVARIANT: a direct sink is
//! removed under the write lock, so once [`Stream::detach_direct`] returns no datagram is written to it again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use bytes::Bytes;
use redoubt_fmv::ts::Counters;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use super::label::StreamLabel;
use super::recorder::Recording;
use super::source::Source;
use super::stats::{RateMeter, Telemetry, Track};

/// Datagrams each subscriber may fall behind before it loses the oldest (about 1.3 MB of 7-packet datagrams).
pub const SUBSCRIBER_QUEUE: usize = 1024;
/// The most subscribers of one stream at once.
pub const MAX_SUBSCRIBERS: usize = 64;

/// A stream.
#[derive(Debug)]
pub struct Stream {
    /// The id.
    pub id: String,
    /// Where it arrives.
    pub source: Source,
    label: RwLock<Arc<StreamLabel>>,
    label_changed: watch::Sender<u64>,
    relay: broadcast::Sender<Bytes>,
    direct: RwLock<Vec<DirectSink>>,
    /// Relay counters, written by the ingest task.
    pub ingest: IngestCounters,
    analysis: Mutex<Analysis>,
    subscribers: Mutex<BTreeMap<u64, SubscriberInfo>>,
    next_subscriber: AtomicU64,
    /// Drops of subscribers that have ended.
    ended_drops: AtomicU64,
    /// The recording, when one was started.
    recording: Mutex<Option<Arc<Recording>>>,
}

/// Counters of the relay path.
#[derive(Debug, Default)]
pub struct IngestCounters {
    /// Datagrams received.
    pub datagrams: AtomicU64,
    /// Bytes received.
    pub bytes: AtomicU64,
    /// TS packets relayed.
    pub packets: AtomicU64,
    /// Bytes not relayed (not whole packets with a sync byte).
    pub dropped_bytes: AtomicU64,
    /// Datagrams the analysis thread never saw because it was behind (the relay never waits for it).
    pub analysis_dropped: AtomicU64,
    /// Bits received per second.
    pub bitrate: Mutex<RateMeter>,
}

/// What the analysis thread knows.
#[derive(Debug, Default)]
pub struct Analysis {
    /// The demultiplexer's counters.
    pub counters: Counters,
    /// KLV packets per second.
    pub klv_rate: RateMeter,
    /// Latest ST 0601 values.
    pub telemetry: Telemetry,
    /// Recent platform positions.
    pub track: Track,
    /// When the last KLV packet was decoded.
    pub last_klv: Option<Instant>,
}

/// A UDP subscriber's socket, written by the ingest task.
#[derive(Debug)]
struct DirectSink {
    id: u64,
    socket: Arc<std::net::UdpSocket>,
    drops: Arc<AtomicU64>,
    sent: Arc<AtomicU64>,
}

/// A live subscriber, as listed.
#[derive(Debug, Clone)]
pub struct SubscriberInfo {
    /// Who.
    pub who: String,
    /// `http`, `udp://…` or `srt://…`.
    pub destination: String,
    /// Datagrams it lost to its bounded queue.
    pub drops: Arc<AtomicU64>,
    /// Datagrams sent to it.
    pub sent: Arc<AtomicU64>,
}

impl Stream {
    /// A stream with its configured label.
    pub fn new(id: String, source: Source, label: StreamLabel) -> Stream {
        let (relay, _) = broadcast::channel(SUBSCRIBER_QUEUE);
        let (label_changed, _) = watch::channel(0);
        Stream {
            id,
            source,
            label: RwLock::new(Arc::new(label)),
            label_changed,
            relay,
            direct: RwLock::new(Vec::new()),
            ingest: IngestCounters::default(),
            analysis: Mutex::new(Analysis::default()),
            subscribers: Mutex::new(BTreeMap::new()),
            next_subscriber: AtomicU64::new(1),
            ended_drops: AtomicU64::new(0),
            recording: Mutex::new(None),
        }
    }

    /// The current label.
    pub fn label(&self) -> Arc<StreamLabel> {
        match self.label.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the label; `recheck` wakes every subscriber to decide again.
    pub fn set_label(&self, label: Arc<StreamLabel>, recheck: bool) {
        match self.label.write() {
            Ok(mut l) => *l = label,
            Err(poisoned) => *poisoned.into_inner() = label,
        }
        if recheck {
            self.label_changed.send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// Wakes when the label changes.
    pub fn label_changes(&self) -> watch::Receiver<u64> {
        self.label_changed.subscribe()
    }

    /// Hands a datagram of packets to every subscriber. Never waits.
    pub fn relay(&self, packets: Bytes) {
        if let Ok(direct) = self.direct.read() {
            for sink in direct.iter() {
                match sink.socket.send(&packets) {
                    Ok(_) => {
                        sink.sent.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        sink.drops.fetch_add(1, Ordering::Relaxed);
                    }
                    // A refused send (nobody listening yet: ICMP port unreachable) is not the end of the
                    // subscription; the lease and the re-checks decide that.
                    Err(_) => {}
                }
            }
        }
        // No receiver is not an error: nobody is watching.
        let _ = self.relay.send(packets);
    }

    /// Makes the ingest task write to subscriber `id`'s UDP socket (non-blocking) from now on.
    pub fn attach_direct(&self, id: u64, socket: Arc<std::net::UdpSocket>, info: &SubscriberInfo) {
        let sink = DirectSink { id, socket, drops: info.drops.clone(), sent: info.sent.clone() };
        match self.direct.write() {
            Ok(mut d) => d.push(sink),
            Err(poisoned) => poisoned.into_inner().push(sink),
        }
    }

    /// Stops writing to subscriber `id`'s socket; once this returns, nothing more is written to it.
    pub fn detach_direct(&self, id: u64) {
        match self.direct.write() {
            Ok(mut d) => d.retain(|s| s.id != id),
            Err(poisoned) => poisoned.into_inner().retain(|s| s.id != id),
        }
    }

    /// A ring receiver for the recorder (not a viewer: not listed, not counted in [`MAX_SUBSCRIBERS`]).
    pub fn record_receiver(&self) -> broadcast::Receiver<Bytes> {
        self.relay.subscribe()
    }

    /// Sets the stream's recording (shown in its JSON).
    pub fn set_recording(&self, recording: Arc<Recording>) {
        if let Ok(mut r) = self.recording.lock() {
            *r = Some(recording);
        }
    }

    /// The stream's recording, when one was started.
    pub fn recording(&self) -> Option<Arc<Recording>> {
        self.recording.lock().ok()?.clone()
    }

    /// Registers a subscriber: its receiver (from now on), its id and its counters. `None` when the stream has
    /// [`MAX_SUBSCRIBERS`] already.
    pub fn subscribe(
        &self,
        who: &str,
        destination: &str,
    ) -> Option<(u64, broadcast::Receiver<Bytes>, SubscriberInfo)> {
        let mut subs = self.subscribers.lock().ok()?;
        if subs.len() >= MAX_SUBSCRIBERS {
            return None;
        }
        let id = self.next_subscriber.fetch_add(1, Ordering::Relaxed);
        let info = SubscriberInfo {
            who: who.to_owned(),
            destination: destination.to_owned(),
            drops: Arc::new(AtomicU64::new(0)),
            sent: Arc::new(AtomicU64::new(0)),
        };
        subs.insert(id, info.clone());
        Some((id, self.relay.subscribe(), info))
    }

    /// Forgets a subscriber (its drops stay in the stream's total).
    pub fn unsubscribe(&self, id: u64) {
        self.detach_direct(id);
        if let Ok(mut subs) = self.subscribers.lock()
            && let Some(info) = subs.remove(&id)
        {
            self.ended_drops.fetch_add(info.drops.load(Ordering::Relaxed), Ordering::Relaxed);
        }
    }

    /// The subscriber `id`, if live.
    pub fn subscriber(&self, id: u64) -> Option<SubscriberInfo> {
        self.subscribers.lock().ok()?.get(&id).cloned()
    }

    /// Runs `f` on the analysis state.
    pub fn with_analysis<T>(&self, f: impl FnOnce(&mut Analysis) -> T) -> Option<T> {
        self.analysis.lock().ok().map(|mut a| f(&mut a))
    }

    /// The stream's telemetry as JSON (id, label, flags, statistics, positions, subscribers).
    pub fn to_json(&self, now: Instant) -> Value {
        let label = self.label();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (counters, klv_rate, telemetry, track_points) = self
            .with_analysis(|a| {
                (a.counters, a.klv_rate.rate(now), a.telemetry.clone(), a.track.points().count())
            })
            .unwrap_or_default();
        let subs: Vec<Value> = self
            .subscribers
            .lock()
            .map(|s| {
                s.iter()
                    .map(|(id, i)| {
                        json!({"id": id, "who": i.who, "destination": i.destination,
                               "sent": load(&i.sent), "drops": load(&i.drops)})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let live_drops: u64 = subs.iter().filter_map(|s| s["drops"].as_u64()).sum();
        json!({
            "id": self.id,
            "source": self.source.to_string(),
            "label": label.label.to_compact_json().ok().and_then(|j| serde_json::from_str::<Value>(&j).ok()),
            "marking": label.marking,
            "configured_marking": label.configured_marking,
            "klv_marking": label.klv_marking,
            "flagged": label.flagged(),
            "raised": label.raised,
            "quarantined": label.quarantined,
            "stats": {
                "datagrams": load(&self.ingest.datagrams),
                "bytes": load(&self.ingest.bytes),
                "packets": load(&self.ingest.packets),
                "bitrate_bps": self.ingest.bitrate.lock().map(|m| m.rate(now) as u64).unwrap_or(0),
                "dropped_bytes": load(&self.ingest.dropped_bytes),
                "analysis_dropped": load(&self.ingest.analysis_dropped),
                "klv_packets": counters.klv_packets,
                "klv_rate_hz": klv_rate,
                "checksum_errors": counters.checksum_errors,
                "cc_errors": counters.cc_errors,
                "malformed_packets": counters.malformed_packets,
                "resyncs": counters.resyncs,
                "skipped_bytes": counters.skipped_bytes,
                "psi_errors": counters.psi_errors,
                "pes_errors": counters.pes_errors,
                "klv_errors": counters.klv_errors,
                "subscribers": subs.len(),
                "subscriber_drops": live_drops + load(&self.ended_drops),
                "track_points": track_points,
            },
            "telemetry": telemetry.to_json(),
            "subscribers": subs,
            "recording": self.recording().map(|r| r.to_json()),
        })
    }
}
