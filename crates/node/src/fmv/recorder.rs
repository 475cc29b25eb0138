//! Recording a stream into the object store: one more reader of the stream's broadcast ring, cutting segments
//! ([`super::segment`]) and storing each as a ZTDF object through the object service's own sealing
//! ([`ObjectService::seal_bytes`] / [`ObjectService::commit`]), under the stream's label, audited as
//! `fmv:RecordSegment`.
//!
//! INVARIANT: the recorder never slows the relay: it reads the ring like any subscriber (a recorder that falls
//! behind loses the oldest datagrams, counted in its `drops` and in the segment's metadata), and storage runs in a
//! separate writer task.
//! INVARIANT: a segment is stored under the dominant label of every label the stream had while the segment was
//! open, and at [`LABEL_SETTLE`] after its cut (the analysis thread raises the label shortly after the packets
//! that claim more were relayed); a segment of a quarantined stream is never stored.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use redoubt_audit::{LabelRef, Object, Who};
use redoubt_label::Spif;
use redoubt_policy::Decision;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc};

use super::FmvState;
use super::config::RecordConfig;
use super::label::StreamLabel;
use super::segment::{Segment, Segmenter};
use super::stream::Stream;
use crate::objects::ObjectService;
use crate::objects::internal::NodeObject;
use crate::objects::labels::{self, CheckedLabel};

/// How long after a cut the writer waits before it reads the stream's label a last time.
pub const LABEL_SETTLE: Duration = Duration::from_millis(250);
/// Content type of a stored segment.
pub const SEGMENT_CONTENT_TYPE: &str = "video/mp2t";
/// Owner of the recorded objects and of a bucket the recorder creates.
pub const RECORDER_OWNER: &str = "node";
/// How often the reader checks for a segment due on a silent stream.
const TICK: Duration = Duration::from_millis(100);
/// Segments waiting for the writer (the reader waits beyond this; the ring then counts its drops).
const WRITE_QUEUE: usize = 2;

/// A recording's live state and counters, shown in `/fmv/streams/{id}`.
#[derive(Debug)]
pub struct Recording {
    /// The configuration.
    pub config: RecordConfig,
    /// True while the recorder runs.
    pub active: AtomicBool,
    /// Segments stored.
    pub segments: AtomicU64,
    /// Plaintext bytes stored.
    pub bytes: AtomicU64,
    /// Segments that could not be stored.
    pub failures: AtomicU64,
    /// Datagrams the recorder lost to the ring.
    pub drops: AtomicU64,
    /// The last failure, for the operator.
    pub last_error: Mutex<Option<String>>,
    /// The key of the last segment stored.
    pub last_key: Mutex<Option<String>>,
    /// Ends the recording (the open segment is stored first).
    pub stop: tokio::sync::Notify,
}

impl Recording {
    /// A recording about to start.
    pub fn new(config: RecordConfig) -> Recording {
        Recording {
            config,
            active: AtomicBool::new(true),
            segments: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            drops: AtomicU64::new(0),
            last_error: Mutex::new(None),
            last_key: Mutex::new(None),
            stop: tokio::sync::Notify::new(),
        }
    }

    /// True while the recorder runs.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// The state as JSON.
    pub fn to_json(&self) -> Value {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        json!({
            "state": if self.active.load(Ordering::Relaxed) { "recording" } else { "stopped" },
            "bucket": self.config.bucket,
            "segment_seconds": self.config.segment_seconds,
            "segments": load(&self.segments),
            "bytes": load(&self.bytes),
            "failures": load(&self.failures),
            "drops": load(&self.drops),
            "last_key": self.last_key.lock().ok().and_then(|k| k.clone()),
            "last_error": self.last_error.lock().ok().and_then(|e| e.clone()),
        })
    }

    fn fail(&self, stream: &str, why: String) {
        tracing::warn!(stream, error = %why, "fmv segment not recorded");
        self.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut e) = self.last_error.lock() {
            *e = Some(why);
        }
    }
}

/// The label a segment is stored under: the dominant of those seen, or the reason it must not be stored.
#[derive(Debug, Clone)]
struct SegmentLabel {
    label: Result<CheckedLabel, String>,
}

impl SegmentLabel {
    fn of(stream: &StreamLabel, spif: &Spif) -> SegmentLabel {
        SegmentLabel { label: checked(stream, spif) }
    }

    /// Raises to the dominant of this and `stream` (never lowers); a quarantine or an error is final.
    fn merge(&mut self, stream: &StreamLabel, spif: &Spif) {
        let Ok(current) = &self.label else { return };
        let next = match checked(stream, spif) {
            Ok(n) if n.compact == current.compact => return,
            Ok(n) => spif
                .dominant(&[current.label.clone(), n.label])
                .map_err(|e| format!("no dominant label for the segment: {e}"))
                .and_then(|d| labels::check(d, spif)),
            Err(why) => Err(why),
        };
        self.label = next;
    }
}

fn checked(stream: &StreamLabel, spif: &Spif) -> Result<CheckedLabel, String> {
    if let Some(why) = &stream.quarantined {
        return Err(format!("the stream is quarantined ({why}): the segment is not stored"));
    }
    labels::check(stream.label.clone(), spif)
}

/// A cut segment on its way to the writer.
#[derive(Debug)]
struct Cut {
    segment: Segment,
    label: SegmentLabel,
    at: Instant,
}

/// Starts recording `stream`; the handle ends once the last segment is stored after [`FmvState::stop`] or
/// [`Recording::stop`].
pub fn start(
    state: Arc<FmvState>,
    stream: Arc<Stream>,
    objects: ObjectService,
    config: RecordConfig,
) -> tokio::task::JoinHandle<()> {
    let recording = Arc::new(Recording::new(config));
    stream.set_recording(recording.clone());
    let rx = stream.record_receiver();
    let (tx, cuts) = mpsc::channel(WRITE_QUEUE);
    let writer = tokio::spawn(write(state.clone(), stream.clone(), objects, recording.clone(), cuts));
    tokio::spawn(async move {
        read(&state, &stream, &recording, rx, tx).await;
        if let Err(e) = writer.await {
            tracing::error!(stream = %stream.id, error = %e, "fmv recorder's writer failed");
        }
        recording.active.store(false, Ordering::Relaxed);
    })
}

/// Reads the ring and cuts segments until the node stops; flushes the open segment.
async fn read(
    state: &FmvState,
    stream: &Stream,
    recording: &Recording,
    mut rx: broadcast::Receiver<Bytes>,
    tx: mpsc::Sender<Cut>,
) {
    let spif = state.pdp.spif();
    let period = Duration::from_secs(u64::from(recording.config.segment_seconds));
    let mut segmenter = Segmenter::new(period);
    let mut seen = stream.label();
    let mut label = SegmentLabel::of(&seen, spif);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stopping = state.stopping();
    loop {
        let closed = tokio::select! {
            biased;
            () = async { drop(stopping.wait_for(|stop| *stop).await.map(|_| ())) } => break,
            () = recording.stop.notified() => break,
            _ = ticker.tick() => segmenter.poll(Instant::now(), OffsetDateTime::now_utc()),
            msg = rx.recv() => match msg {
                Ok(packets) => {
                    let now_label = stream.label();
                    if !Arc::ptr_eq(&now_label, &seen) {
                        if segmenter.is_open() {
                            label.merge(&now_label, spif);
                        } else {
                            label = SegmentLabel::of(&now_label, spif);
                        }
                        seen = now_label;
                    }
                    segmenter.handle_packets(Instant::now(), OffsetDateTime::now_utc(), &packets)
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    recording.drops.fetch_add(n, Ordering::Relaxed);
                    segmenter.handle_drops(n);
                    None
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        if let Some(segment) = closed {
            // The datagram that closed a segment may have been split: both halves carry its label.
            let cut = Cut { segment, label: label.clone(), at: Instant::now() };
            label = SegmentLabel::of(&seen, spif);
            if tx.send(cut).await.is_err() {
                return;
            }
        }
    }
    if let Some(segment) = segmenter.flush(OffsetDateTime::now_utc()) {
        let _ = tx.send(Cut { segment, label, at: Instant::now() }).await;
    }
}

/// Stores each cut segment: settle, last label, seal, audit (durable), commit.
async fn write(
    state: Arc<FmvState>,
    stream: Arc<Stream>,
    objects: ObjectService,
    recording: Arc<Recording>,
    mut cuts: mpsc::Receiver<Cut>,
) {
    let bucket = recording.config.bucket.clone();
    match objects.ensure_bucket(&bucket, RECORDER_OWNER).await {
        Ok(true) => {
            tracing::info!(stream = %stream.id, %bucket, "fmv recording: bucket created");
            let decision = Decision {
                permit: true,
                reasons: vec![format!(
                    "bucket created to record stream `{}` (node configuration)",
                    stream.id
                )],
                policy_ids: vec!["fmv-record".to_owned()],
            };
            let object = Object::Object { bucket: bucket.clone(), key: None };
            let _ = state.record(node(), None, "fmv:RecordBucket", object, None, &decision).await;
        }
        Ok(false) => {}
        Err(e) => recording.fail(&stream.id, format!("cannot create the bucket `{bucket}`: {e}")),
    }
    while let Some(cut) = cuts.recv().await {
        tokio::time::sleep_until((cut.at + LABEL_SETTLE).into()).await;
        let mut label = cut.label;
        label.merge(&stream.label(), state.pdp.spif());
        match store(&state, &stream, &objects, &bucket, cut.segment, label).await {
            Ok((key, bytes)) => {
                recording.segments.fetch_add(1, Ordering::Relaxed);
                recording.bytes.fetch_add(bytes, Ordering::Relaxed);
                if let Ok(mut k) = recording.last_key.lock() {
                    *k = Some(key);
                }
            }
            Err(why) => recording.fail(&stream.id, why),
        }
    }
}

/// Seals one segment, audits it and commits it; returns its key and size.
async fn store(
    state: &FmvState,
    stream: &Stream,
    objects: &ObjectService,
    bucket: &str,
    segment: Segment,
    label: SegmentLabel,
) -> Result<(String, u64), String> {
    let label = label.label?;
    let key = segment_key(&stream.id, segment.start);
    let (start, end) = (rfc3339(segment.start), rfc3339(segment.end));
    let packets = segment.packets();
    let user_metadata = BTreeMap::from([
        ("fmv-stream".to_owned(), stream.id.clone()),
        ("fmv-start".to_owned(), start.clone()),
        ("fmv-end".to_owned(), end.clone()),
        ("fmv-packets".to_owned(), packets.to_string()),
        ("fmv-drops".to_owned(), segment.drops.to_string()),
    ]);
    let object = NodeObject {
        bucket: bucket.to_owned(),
        key: key.clone(),
        label: label.clone(),
        content_type: SEGMENT_CONTENT_TYPE.to_owned(),
        user_metadata,
        owner: RECORDER_OWNER.to_owned(),
    };
    let sealed = objects.seal_bytes(&object, Bytes::from(segment.bytes)).await.map_err(|e| e.to_string())?;
    let decision = Decision {
        permit: true,
        reasons: vec![format!(
            "stream `{}` recorded from {start} to {end}: {packets} packets, {} datagrams lost",
            stream.id, segment.drops
        )],
        policy_ids: vec!["fmv-record".to_owned()],
    };
    let label_ref = LabelRef {
        marking: label.marking.clone(),
        policy_id: label.label.policy.uri.clone().unwrap_or_else(|| label.label.policy.name.clone()),
    };
    let audited = state
        .record(
            node(),
            None,
            "fmv:RecordSegment",
            Object::Object { bucket: bucket.to_owned(), key: Some(key.clone()) },
            Some(label_ref),
            &decision,
        )
        .await;
    if let Err(e) = audited {
        objects.discard_sealed(&sealed).await;
        return Err(format!("the audit log is unavailable ({e}): segment `{key}` discarded"));
    }
    let size = sealed.size;
    objects.commit(object, &sealed).await.map_err(|e| format!("cannot store `{bucket}/{key}`: {e}"))?;
    tracing::debug!(stream = %stream.id, %key, size, "fmv segment recorded");
    Ok((key, size))
}

fn node() -> Who {
    Who { name: RECORDER_OWNER.to_owned(), role: "system".to_owned() }
}

/// `{stream}/{YYYYMMDD}T{HHMMSS}.{micros}Z.ts`: sortable by name in start order. Do not change: readers list
/// recordings by this form.
pub fn segment_key(stream: &str, start: OffsetDateTime) -> String {
    let t = start.to_offset(time::UtcOffset::UTC);
    format!(
        "{stream}/{:04}{:02}{:02}T{:02}{:02}{:02}.{:06}Z.ts",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_label_only_rises_and_a_quarantine_is_final() {
        use super::super::config::LabelSource;
        use super::super::label::configured;
        let pdp = crate::default_pdp().unwrap();
        let spif = pdp.spif();
        let low = configured(&LabelSource::Classification("UNCLASSIFIED".into()), spif).unwrap();
        let high = configured(&LabelSource::Classification("CONFIDENTIAL".into()), spif).unwrap();
        let marking = |l: &SegmentLabel| l.label.as_ref().unwrap().marking.clone();
        let mut seg = SegmentLabel::of(&low, spif);
        seg.merge(&high, spif);
        assert_eq!(marking(&seg), "NATO CONFIDENTIAL");
        seg.merge(&low, spif);
        assert_eq!(marking(&seg), "NATO CONFIDENTIAL", "never lowered");
        let quarantined = StreamLabel { quarantined: Some("unmappable".into()), ..high.clone() };
        seg.merge(&quarantined, spif);
        assert!(seg.label.as_ref().unwrap_err().contains("quarantined"));
        seg.merge(&high, spif);
        assert!(seg.label.is_err(), "a quarantined segment stays unstored");
    }

    #[test]
    fn segment_keys_sort_in_time_order() {
        let a = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let b = a + Duration::from_millis(900);
        let c = a + Duration::from_secs(10);
        assert_eq!(segment_key("uav1", a), "uav1/20231114T221320.123456Z.ts");
        let (ka, kb, kc) = (segment_key("s", a), segment_key("s", b), segment_key("s", c));
        assert!(ka < kb && kb < kc);
    }
}
