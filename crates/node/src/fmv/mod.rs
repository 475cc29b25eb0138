//! Full-motion video (STANAG 4609) in the node: configured MPEG-TS streams ingested over UDP on loopback,
//! relayed unchanged to authorised subscribers (HTTP chunked `video/mp2t`, or UDP to a loopback destination),
//! and their KLV telemetry served as JSON and GeoJSON.
//!
//! | file | owns |
//! |---|---|
//! | `config.rs` | the `[[fmv.streams]]` tables |
//! | `label.rs` | a stream's label: configured, raised by its ST 0102 metadata, or quarantined (pure) |
//! | `stats.rs` | the relay's packet filter, rate meters, the bounded track, the latest telemetry (pure) |
//! | `stream.rs` | one stream's shared state and its broadcast ring |
//! | `source.rs` | a stream's source (`udp://`, `srt://`) and a pushed subscriber's destination (pure) |
//! | `ingest.rs` | the UDP sockets, the relay path and the analysis thread |
//! | `srt_ingest.rs` | the SRT listener of an `srt://` stream: one caller at a time, into the same relay path |
//! | `srt_output.rs` | an SRT subscriber's connection: the node calls a listening viewer, or (listener mode) the viewer calls it |
//! | `subscriber.rs` | a subscriber: its sink, its periodic re-check, its cut-off |
//! | `routes.rs` | the `/fmv/…` routes |
//! | `segment.rs` | cutting a recorded stream into segments on packet boundaries (pure) |
//! | `recorder.rs` | recording a stream into the object store as ZTDF segments under its label |
//! | `record_routes.rs` | starting and stopping a recording over the API (decided as a write into the bucket) |
//!
//! INVARIANT: a subscriber receives a byte only after the PDP permitted `read` on the stream's label (exactly
//! as an object GET, on the reserved pseudo-bucket `fmv`) and the grant is durable in the audit log; it is
//! decided again every [`subscriber::RECHECK`] and whenever the stream's label changes, and cut off (audited)
//! as soon as a decision denies or its identity is revoked.

pub mod config;
pub mod ingest;
pub mod label;
pub mod record_routes;
pub mod recorder;
pub mod routes;
pub mod segment;
pub mod source;
pub mod srt_ingest;
pub mod srt_output;
pub mod stats;
pub mod stream;
pub mod subscriber;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use redoubt_audit::{Entry, LabelRef, Object, Who};
use redoubt_policy::{Action, Decision, Pdp, Request, Resource};

use crate::audit_sink::AuditSink;
use crate::identities::{Principal, Registry};
use crate::metrics::Metrics;
use crate::objects::{ObjectService, random_id};
use label::{LabelChange, StreamLabel};
use stream::Stream;

/// The pseudo-bucket stream decisions are made on (reserved: no S3 bucket can take the name).
pub const FMV_BUCKET: &str = "fmv";

/// The node's streams and what deciding on them needs.
#[derive(Debug)]
pub struct FmvState {
    /// Streams by id.
    pub streams: BTreeMap<String, Arc<Stream>>,
    /// The decision point.
    pub pdp: Arc<Pdp>,
    /// The audit trail.
    pub audit: AuditSink,
    /// The live identities (re-read at every re-check: a revocation cuts a viewer off).
    pub registry: Arc<Registry>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Controls of the live UDP subscribers, by stream and subscriber id, with their owner's fingerprint.
    controls: Mutex<BTreeMap<(String, u64), Owned>>,
    /// True once the node shuts down: every subscriber ends (a live body would otherwise hold the drain).
    stopping: tokio::sync::watch::Sender<bool>,
    /// The object service recordings are stored through.
    objects: ObjectService,
    /// The recorders by stream id (each ends after storing its last segment once stopped or the node stops).
    recorders: Mutex<BTreeMap<String, tokio::task::JoinHandle<()>>>,
}

/// A UDP subscriber's controls and its owner's certificate fingerprint.
type Owned = (Arc<str>, Arc<subscriber::Control>);

/// A stream's bound source, before its ingest task starts.
enum Bound {
    Udp(tokio::net::UdpSocket),
    Srt(Box<srt_ingest::Bound>),
}

/// Why the streams could not start.
#[derive(Debug, thiserror::Error)]
pub enum FmvStartError {
    /// A configured label is not valid under the domain policy.
    #[error("fmv stream `{id}`: {message}")]
    Label { id: String, message: String },
    /// A stream's socket could not be bound.
    #[error(
        "fmv stream `{id}`: cannot listen on `{source_addr}`: {error}; is another process using the port?"
    )]
    Bind { id: String, source_addr: String, error: std::io::Error },
}

/// Who a subscriber is: the identity that asked, and its certificate (the key for re-checks).
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The identity as it was when it subscribed.
    pub principal: Arc<Principal>,
    /// Its certificate fingerprint.
    pub fingerprint: Arc<str>,
}

impl FmvState {
    /// Resolves every configured label, binds every socket and starts ingesting. Must run inside the runtime.
    pub async fn start(
        configs: &[config::StreamConfig],
        pdp: Arc<Pdp>,
        audit: AuditSink,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
        objects: ObjectService,
    ) -> Result<Arc<FmvState>, FmvStartError> {
        let mut streams = BTreeMap::new();
        let mut sockets = Vec::new();
        for c in configs {
            let label = label::configured(&c.label, pdp.spif())
                .map_err(|message| FmvStartError::Label { id: c.id.clone(), message })?;
            let stream = Arc::new(Stream::new(c.id.clone(), c.listen, label));
            let bind_error =
                |error| FmvStartError::Bind { id: c.id.clone(), source_addr: c.listen.to_string(), error };
            let socket = match c.listen {
                source::Source::Udp(udp) => Bound::Udp(ingest::bind(udp).await.map_err(bind_error)?),
                source::Source::Srt(srt) => {
                    Bound::Srt(Box::new(srt_ingest::bind(srt).await.map_err(bind_error)?))
                }
            };
            sockets.push((stream.clone(), socket));
            streams.insert(c.id.clone(), stream);
        }
        let state = Arc::new(FmvState {
            streams,
            pdp: pdp.clone(),
            audit,
            registry,
            metrics,
            controls: Mutex::default(),
            stopping: tokio::sync::watch::channel(false).0,
            objects,
            recorders: Mutex::default(),
        });
        for c in configs {
            if let (Some(record), Some(stream)) = (&c.record, state.streams.get(&c.id)) {
                let _ = state.start_recording(stream, record.clone());
            }
        }
        for (stream, socket) in sockets {
            tracing::info!(stream = %stream.id, source = %stream.source, marking = %stream.label().marking, "fmv stream ingesting");
            let reporter = state.clone();
            let handle = tokio::runtime::Handle::current();
            let report: ingest::LabelReport = Box::new(move |stream, change| {
                let (state, stream, change) = (reporter.clone(), stream.clone(), change.clone());
                handle.spawn(async move { state.audit_label_change(&stream, &change).await });
            });
            match socket {
                Bound::Udp(socket) => {
                    tokio::spawn(ingest::run(stream, socket, pdp.clone(), report));
                }
                Bound::Srt(bound) => {
                    tokio::spawn(srt_ingest::run(stream, *bound, pdp.clone(), report));
                }
            }
        }
        Ok(state)
    }

    /// The PDP's decision on `principal` reading `stream` under `label`: `read` on pseudo-bucket `fmv`, key the
    /// stream id, exactly as an object GET. A quarantined stream is refused to everyone.
    pub fn decide(&self, principal: &Principal, stream: &Stream, label: &StreamLabel) -> Decision {
        if let Some(why) = &label.quarantined {
            return Decision {
                permit: false,
                reasons: vec![why.clone()],
                policy_ids: vec!["fmv-stream-quarantined".to_owned()],
            };
        }
        self.pdp.decide(&Request {
            subject: &principal.subject,
            action: Action::Read,
            resource: Resource { bucket: FMV_BUCKET, key: Some(&stream.id), label: Some(&label.label) },
            now_unix: time::OffsetDateTime::now_utc().unix_timestamp(),
        })
    }

    /// Writes an audit record about a stream and waits until it is durable; returns the decision id.
    pub async fn audit(
        &self,
        who: Who,
        device: Option<String>,
        action: &str,
        stream: &str,
        label: Option<&StreamLabel>,
        decision: &Decision,
    ) -> Result<String, String> {
        let label = label.map(|l| LabelRef {
            marking: l.marking.clone(),
            policy_id: l.label.policy.uri.clone().unwrap_or_else(|| l.label.policy.name.clone()),
        });
        self.record(who, device, action, Object::Stream { id: stream.to_owned() }, label, decision).await
    }

    /// Writes an audit record about any object and waits until it is durable; returns the decision id.
    pub async fn record(
        &self,
        who: Who,
        device: Option<String>,
        action: &str,
        object: Object,
        label: Option<LabelRef>,
        decision: &Decision,
    ) -> Result<String, String> {
        let decision_id = random_id();
        let entry = Entry {
            request_id: random_id(),
            decision_id: decision_id.clone(),
            who,
            device,
            action: action.to_owned(),
            object: Some(object),
            label,
            decision: if decision.permit {
                redoubt_audit::Decision::Allow
            } else {
                redoubt_audit::Decision::Deny
            },
            reasons: decision.reasons.clone(),
            policy_ids: decision.policy_ids.clone(),
        };
        self.metrics.observe_decision(decision.permit);
        self.audit.record(entry).await.map(|_| decision_id).map_err(|e| {
            tracing::error!(error = %e, "audit log unavailable");
            e
        })
    }

    /// Ends every subscriber (at shutdown): live HTTP bodies end, so the connection drain is not held open.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Starts recording `stream`; `Err` with the running recording when one is already running.
    pub fn start_recording(
        self: &Arc<Self>,
        stream: &Arc<Stream>,
        config: config::RecordConfig,
    ) -> Result<(), Arc<recorder::Recording>> {
        let Ok(mut recorders) = self.recorders.lock() else { return Ok(()) };
        if let Some(running) = stream.recording().filter(|r| r.is_active()) {
            return Err(running);
        }
        tracing::info!(stream = %stream.id, bucket = %config.bucket, segment_seconds = config.segment_seconds, "fmv stream recording");
        let handle = recorder::start(self.clone(), stream.clone(), self.objects.clone(), config);
        recorders.insert(stream.id.clone(), handle);
        Ok(())
    }

    /// Stops recording `stream` and waits (at most `limit`) until its open segment is stored; `None` when it
    /// was not recording.
    pub async fn stop_recording(
        &self,
        stream: &Stream,
        limit: std::time::Duration,
    ) -> Option<Arc<recorder::Recording>> {
        let recording = stream.recording().filter(|r| r.is_active())?;
        recording.stop.notify_one();
        let handle = self.recorders.lock().ok().and_then(|mut r| r.remove(&stream.id));
        if let Some(handle) = handle
            && tokio::time::timeout(limit, handle).await.is_err()
        {
            tracing::warn!(stream = %stream.id, "fmv recorder did not finish in time");
        }
        Some(recording)
    }

    /// The PDP's decision on `principal` recording `stream` into `bucket`: `write` on the bucket, key the
    /// stream's prefix, under the stream's current label, exactly as an S3 PUT of a segment would be decided.
    pub fn decide_recording(&self, principal: &Principal, stream: &Stream, bucket: &str) -> Decision {
        let label = stream.label();
        if let Some(why) = &label.quarantined {
            return Decision {
                permit: false,
                reasons: vec![why.clone()],
                policy_ids: vec!["fmv-stream-quarantined".to_owned()],
            };
        }
        let prefix = format!("{}/", stream.id);
        self.pdp.decide(&Request {
            subject: &principal.subject,
            action: Action::Write,
            resource: Resource { bucket, key: Some(&prefix), label: Some(&label.label) },
            now_unix: time::OffsetDateTime::now_utc().unix_timestamp(),
        })
    }

    /// Waits (at most `limit`) for every recorder to store its last segment; call after [`FmvState::stop`].
    pub async fn finish_recordings(&self, limit: std::time::Duration) {
        let handles: Vec<_> = self
            .recorders
            .lock()
            .map(|mut r| std::mem::take(&mut *r).into_values().collect())
            .unwrap_or_default();
        let all = futures::future::join_all(handles);
        if tokio::time::timeout(limit, all).await.is_err() {
            tracing::warn!("fmv recorders did not finish in time: their last segments may be lost");
        }
    }

    /// Resolves once [`FmvState::stop`] was called.
    pub fn stopping(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Remembers a UDP subscriber's controls for its owner's renew and delete.
    pub fn register_control(&self, stream: &str, id: u64, owner: &Viewer, control: Arc<subscriber::Control>) {
        if let Ok(mut c) = self.controls.lock() {
            c.insert((stream.to_owned(), id), (owner.fingerprint.clone(), control));
        }
    }

    /// A live UDP subscriber's controls, when `viewer` owns it.
    pub fn control(&self, stream: &str, id: u64, viewer: &Viewer) -> Option<Arc<subscriber::Control>> {
        let c = self.controls.lock().ok()?;
        let (owner, control) = c.get(&(stream.to_owned(), id))?;
        (owner == &viewer.fingerprint).then(|| control.clone())
    }

    /// Forgets a subscriber's controls.
    pub fn forget_control(&self, stream: &str, id: u64) {
        if let Ok(mut c) = self.controls.lock() {
            c.remove(&(stream.to_owned(), id));
        }
    }

    /// Audits a label the stream's own metadata raised or quarantined (by the node, not a caller).
    async fn audit_label_change(&self, stream: &Stream, change: &LabelChange) {
        let (action, label, reason) = match change {
            LabelChange::Raised(l) if l.raised => (
                "fmv:LabelRaised",
                l,
                format!(
                    "the stream's ST 0102 metadata claims `{}`, above the configured `{}`: label raised to `{}`",
                    l.klv_marking.as_deref().unwrap_or("?"),
                    l.configured_marking,
                    l.marking
                ),
            ),
            LabelChange::Quarantined(l) => ("fmv:Quarantined", l, l.quarantined.clone().unwrap_or_default()),
            _ => return,
        };
        tracing::warn!(stream = %stream.id, %reason, "fmv stream flagged");
        let decision =
            Decision { permit: false, reasons: vec![reason], policy_ids: vec![action.replace(':', "-")] };
        let who = Who { name: "node".to_owned(), role: "system".to_owned() };
        let _ = self.audit(who, None, action, &stream.id, Some(label), &decision).await;
    }
}

/// The audit's view of a principal.
pub fn who(principal: &Principal) -> Who {
    Who { name: principal.name.clone(), role: principal.subject.role.to_string() }
}
