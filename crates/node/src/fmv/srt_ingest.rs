//! SRT ingest: the node is an SRT listener on a loopback address and accepts **one caller at a time**; each SRT
//! message it receives goes through the same relay path as a UDP datagram (`ingest::receive`), so statistics,
//! the demultiplexer, the label and the subscribers work unchanged.
//!
//! A second caller while one is connected is refused (SRT reject code 2409 "conflict"): a stream has one
//! source, and a caller cannot take over a live stream. A caller that vanishes without closing holds the slot
//! until SRT's peer idle timeout ends its connection; a caller that closes frees it at once, and the next
//! caller is accepted (reconnects work).
//!
//! The listener's UDP port is bound at start (like a UDP source), so a port in use stops the start and no other
//! process can take the port between two callers.
//!
//! srt-tokio 0.4's listener task can die on a hostile handshake: srt-protocol answers a caller that offers
//! encryption to a listener without a passphrase with an `unimplemented!` panic, which ends that task (and with it
//! the current caller's packets). INVARIANT: an ended listener is bound again ([`RELISTEN`] later, retried until
//! the port is free), so a local caller can interrupt a stream for seconds but not stop it.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use redoubt_policy::Pdp;
use srt_tokio::access::{RejectReason, ServerRejectReason};
use srt_tokio::{SrtIncoming, SrtListener, SrtSocket};
use tokio::task::JoinHandle;

use super::ingest::{LabelReport, receive, start_analysis};
use super::source::{Source, SrtSource};
use super::stream::Stream;

/// How long after its listener ended a stream listens again.
pub const RELISTEN: Duration = Duration::from_secs(1);

/// A bound SRT listener, waiting for callers.
#[derive(Debug)]
pub struct Bound {
    listener: SrtListener,
    incoming: SrtIncoming,
}

/// Binds the stream's SRT listener (the UDP port is taken now).
pub async fn bind(source: SrtSource) -> io::Result<Bound> {
    let (listener, incoming) = SrtListener::builder().latency(source.latency).bind(source.addr).await?;
    Ok(Bound { listener, incoming })
}

/// Accepts callers one at a time and feeds what they send into the stream's relay path, for the node's life;
/// listens again whenever the listener ends.
pub async fn run(stream: Arc<Stream>, bound: Bound, pdp: Arc<Pdp>, report: LabelReport) {
    let to_analysis = start_analysis(&stream, pdp, report);
    let Source::Srt(source) = stream.source else { return };
    let mut bound = Some(bound);
    loop {
        if let Some(b) = bound.take() {
            accept(&stream, b, &to_analysis).await;
            tracing::warn!(stream = %stream.id, "SRT listener ended (a caller's handshake may have crashed it); listening again");
        }
        tokio::time::sleep(RELISTEN).await;
        match bind(source).await {
            Ok(b) => bound = Some(b),
            Err(e) => {
                tracing::debug!(stream = %stream.id, error = %e, "SRT listener not bound yet; retrying")
            }
        }
    }
}

/// Accepts callers on one listener until it ends.
async fn accept(stream: &Arc<Stream>, bound: Bound, to_analysis: &std::sync::mpsc::SyncSender<Bytes>) {
    let Bound { listener, mut incoming } = bound;
    let mut current: Option<JoinHandle<()>> = None;
    while let Some(request) = incoming.incoming().next().await {
        let remote = request.remote();
        if current.as_ref().is_some_and(|task| !task.is_finished()) {
            tracing::warn!(stream = %stream.id, %remote, "SRT caller refused: the stream has a caller already");
            if let Err(e) = request.reject(RejectReason::Server(ServerRejectReason::Conflict)).await {
                tracing::debug!(stream = %stream.id, error = %e, "SRT reject failed");
            }
            continue;
        }
        let socket = match request.accept(None).await {
            Ok(s) => s,
            Err(e) => {
                tracing::info!(stream = %stream.id, %remote, error = %e, "SRT caller could not be accepted");
                continue;
            }
        };
        tracing::info!(stream = %stream.id, %remote, "SRT caller connected");
        let (stream, to_analysis) = (stream.clone(), to_analysis.clone());
        current = Some(tokio::spawn(async move {
            read(&stream, socket, &to_analysis).await;
            tracing::info!(stream = %stream.id, %remote, "SRT caller disconnected");
        }));
    }
    if let Some(task) = current {
        task.abort();
    }
    drop(listener);
}

/// Reads one caller's messages until it disconnects.
async fn read(stream: &Stream, mut socket: SrtSocket, to_analysis: &std::sync::mpsc::SyncSender<Bytes>) {
    while let Some(Ok((_sent_at, message))) = socket.next().await {
        receive(stream, to_analysis, message);
    }
}
