//! A subscriber: one task that reads the stream's broadcast ring and writes to its sink (an HTTP response body,
//! or an SRT connection to a viewer on loopback), deciding again every [`RECHECK`] and whenever the stream's label
//! changes. A UDP sink (a socket connected to a loopback destination) is written by the ingest task itself
//! ([`Stream::attach_direct`]); its task only decides. A remote node is one more sink of the same kind.
//!
//! INVARIANT: the task never outlives a denial: when the identity is gone from the registry (revoked) or the
//! PDP denies, the sink is detached (no datagram is written to it after that) before the cut-off is audited.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use redoubt_policy::Decision;
use std::net::UdpSocket;
use tokio::sync::{Notify, broadcast, mpsc};

use super::stream::{Stream, SubscriberInfo};
use super::{FmvState, Viewer, who};

/// How often a subscriber is decided again (a revoked viewer is cut off within this, plus one datagram).
pub const RECHECK: Duration = Duration::from_millis(200);
/// Datagrams an HTTP response may hold before the ring's drop-oldest applies.
pub const HTTP_BUFFER: usize = 8;

/// Where a subscriber's datagrams go.
#[derive(Debug)]
pub enum Sink {
    /// An HTTP response body (the receiver is the body stream).
    Http(mpsc::Sender<Bytes>),
    /// A non-blocking UDP socket connected to the destination.
    Udp(Arc<UdpSocket>),
    /// An SRT connection to a viewer (`srt_output.rs`).
    Srt(Box<super::srt_output::Output>),
}

/// Controls of a live subscriber shared with the routes that renew or end it.
#[derive(Debug, Default)]
pub struct Control {
    /// Ends the subscription.
    pub stop: Notify,
    /// When the lease ends (UDP subscribers), as an instant.
    pub expires: std::sync::Mutex<Option<Instant>>,
}

/// One subscriber, ready to run.
#[derive(Debug)]
pub struct Subscriber {
    /// The node's streams and decision point.
    pub state: Arc<FmvState>,
    /// The stream.
    pub stream: Arc<Stream>,
    /// Who.
    pub viewer: Viewer,
    /// The subscriber id within the stream.
    pub id: u64,
    /// The ring receiver (dropped for a UDP sink, which the ingest task writes).
    pub rx: Option<broadcast::Receiver<Bytes>>,
    /// Its counters.
    pub info: SubscriberInfo,
    /// Its controls.
    pub control: Arc<Control>,
    /// Its sink.
    pub sink: Sink,
}

/// Why a subscription ended.
#[derive(Debug)]
enum End {
    /// A decision denied, or the identity is gone.
    Denied(Decision),
    /// The receiver went away, the lease ran out, or it was ended by request.
    Closed(&'static str),
}

impl Subscriber {
    /// Starts relaying: a UDP sink gets every datagram from this call on (it is attached before this returns, so
    /// a viewer told it is subscribed misses nothing), and the task that decides again runs until the end.
    pub fn start(self) {
        if let Sink::Udp(socket) = &self.sink {
            self.stream.attach_direct(self.id, socket.clone(), &self.info);
        }
        tokio::spawn(self.run());
    }

    /// Relays until the subscription ends; audits a cut-off.
    async fn run(mut self) {
        let end = self.relay().await;
        // Detaches a direct sink first: nothing is written to it from here on.
        self.stream.unsubscribe(self.id);
        self.state.forget_control(&self.stream.id, self.id);
        match end {
            End::Denied(decision) => {
                let label = self.stream.label();
                tracing::info!(stream = %self.stream.id, who = %self.viewer.principal.name, reasons = %decision.explanation(), "fmv subscriber cut off");
                let _ = self
                    .state
                    .audit(
                        who(&self.viewer.principal),
                        Some(self.viewer.fingerprint.to_string()),
                        "fmv:CutOff",
                        &self.stream.id,
                        Some(&label),
                        &decision,
                    )
                    .await;
            }
            End::Closed(why) => {
                tracing::debug!(stream = %self.stream.id, who = %self.viewer.principal.name, why, "fmv subscriber ended");
            }
        }
    }

    async fn relay(&mut self) -> End {
        let mut ticker = tokio::time::interval(RECHECK);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut label_changes = self.stream.label_changes();
        let mut pending: Option<Bytes> = None;
        let mut stopping = self.state.stopping();
        // A UDP sink is written by the ingest task: this task does not read the ring, and an unread receiver
        // would only keep the ring's datagrams alive.
        let reads_ring = !matches!(self.sink, Sink::Udp(_));
        if !reads_ring {
            self.rx = None;
        }
        loop {
            let http = match &self.sink {
                Sink::Http(tx) => Some(tx.clone()),
                Sink::Udp(_) | Sink::Srt(_) => None,
            };
            tokio::select! {
                biased;
                () = self.control.stop.notified() => return End::Closed("ended by request"),
                () = async { drop(stopping.wait_for(|stop| *stop).await.map(|_| ())) } => {
                    return End::Closed("the node is shutting down");
                }
                _ = ticker.tick() => {
                    if reads_ring {
                        self.count_lag();
                    }
                    if let Err(end) = self.recheck() {
                        return end;
                    }
                }
                changed = label_changes.changed() => {
                    if changed.is_err() {
                        return End::Closed("stream gone");
                    }
                    if let Err(end) = self.recheck() {
                        return end;
                    }
                }
                permit = async { http.as_ref()?.reserve().await.ok() }, if pending.is_some() && http.is_some() => {
                    let Some(permit) = permit else { return End::Closed("the HTTP client went away") };
                    if let Some(b) = pending.take() {
                        permit.send(b);
                        self.info.sent.fetch_add(1, Ordering::Relaxed);
                    }
                }
                () = async { if let Some(tx) = &http { tx.closed().await } else { std::future::pending().await } }, if pending.is_none() => {
                    return End::Closed("the HTTP client went away");
                }
                msg = async { match self.rx.as_mut() { Some(rx) => rx.recv().await, None => std::future::pending().await } }, if pending.is_none() && reads_ring => match msg {
                    Ok(b) => match &mut self.sink {
                        Sink::Http(_) => pending = Some(b),
                        // Written by the ingest task; this receiver is not polled.
                        Sink::Udp(_) => {}
                        Sink::Srt(output) => {
                            if super::srt_output::send(&mut output.socket, b).await.is_err() {
                                return End::Closed("the SRT viewer went away");
                            }
                            self.info.sent.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        self.info.drops.fetch_add(n, Ordering::Relaxed);
                    }
                    Err(broadcast::error::RecvError::Closed) => return End::Closed("stream gone"),
                },
            }
        }
    }

    /// A subscriber blocked on a slow sink does not read the ring, so the ring's drop-oldest would only be counted
    /// when it reads again: skip it forward now, so its drop counter tells the truth while it is stalled.
    fn count_lag(&mut self) {
        if let Some(rx) = self.rx.as_mut()
            && rx.len() > super::stream::SUBSCRIBER_QUEUE
            && let Err(broadcast::error::TryRecvError::Lagged(n)) = rx.try_recv()
        {
            self.info.drops.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Decides again: identity still live, PDP still permits the current label, lease not over.
    fn recheck(&self) -> Result<(), End> {
        let Some(principal) = self.state.registry.by_fingerprint(&self.viewer.fingerprint) else {
            return Err(End::Denied(Decision {
                permit: false,
                reasons: vec!["the identity was revoked or is no longer known".to_owned()],
                policy_ids: vec!["identity-revoked".to_owned()],
            }));
        };
        let label = self.stream.label();
        let decision = self.state.decide(&principal, &self.stream, &label);
        if !decision.permit {
            return Err(End::Denied(decision));
        }
        let expired =
            self.control.expires.lock().map(|e| e.is_some_and(|t| Instant::now() >= t)).unwrap_or(true);
        if expired {
            return Err(End::Closed("lease over"));
        }
        Ok(())
    }
}
