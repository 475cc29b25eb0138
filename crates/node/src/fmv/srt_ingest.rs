//! SRT ingest: the node is an SRT listener on a loopback address and accepts **one caller at a time**; each SRT
//! message it receives goes through the same relay path as a UDP datagram (`ingest::receive`), so statistics,
//! the demultiplexer, the label and the subscribers work unchanged.
//!
//! A second caller while one is connected is refused (SRT reject code 2409 "conflict"): a stream has one
//! source, and a caller cannot take over a live stream. A caller that vanishes without closing holds the slot
//! until SRT's peer idle timeout ends its connection; a caller that closes frees it at once, and the next
//! caller is accepted (reconnects work).
//!
//! INVARIANT: the listener's UDP port stays bound for the node's life (bound at start, like a UDP source), so a
//! port in use stops the start and no other process can take the port between two callers.

use std::io;
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use redoubt_policy::Pdp;
use srt_tokio::access::{RejectReason, ServerRejectReason};
use srt_tokio::{SrtIncoming, SrtListener, SrtSocket};
use tokio::task::JoinHandle;

use super::ingest::{LabelReport, receive, start_analysis};
use super::source::SrtSource;
use super::stream::Stream;

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

/// Accepts callers one at a time and feeds what they send into the stream's relay path, for the node's life.
pub async fn run(stream: Arc<Stream>, bound: Bound, pdp: Arc<Pdp>, report: LabelReport) {
    let Bound { listener, mut incoming } = bound;
    let to_analysis = start_analysis(&stream, pdp, report);
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
    // The listener ended (it does not, short of a socket failure): keep it alive until then.
    drop(listener);
    tracing::error!(stream = %stream.id, "SRT listener ended: the stream no longer ingests");
}

/// Reads one caller's messages until it disconnects.
async fn read(stream: &Stream, mut socket: SrtSocket, to_analysis: &std::sync::mpsc::SyncSender<Bytes>) {
    while let Some(Ok((_sent_at, message))) = socket.next().await {
        receive(stream, to_analysis, message);
    }
}
