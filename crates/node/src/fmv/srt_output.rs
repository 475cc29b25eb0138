//! SRT output: the node sends a viewer the stream's datagrams, one SRT message each, unchanged. The subscriber
//! logic (authorisation, re-checks, lease, cut-off) is the UDP subscriber's; only the sink differs. Two modes:
//!
//! - **caller** (default): the node calls a listening viewer ([`connect`]);
//! - **listener**: the node listens on the requested loopback port and the viewer calls it, presenting the stream
//!   id it gave in its authenticated request ([`accept`]). Any other caller is refused (SRT reject 2403), and once
//!   the viewer is connected any further caller is refused too (2409). The stream id is a secret shared by the
//!   authorised requester and its player: it is compared in constant time and never logged.
//!
//! Listener mode also avoids a defect of srt-tokio 0.4 as caller: its conclusion handshake carries the listener's
//! own timestamp, so a libsrt viewer that listened for a while releases the node's messages early, by up to the
//! whole latency window (docs/benchmarks.md, "SRT relay against srt-live-transmit").
//!
//! Latency: SRT negotiates the larger of the two ends' latencies, and the viewer's receiver holds each message
//! until that window has passed. The node offers the stream's own `latency_ms` for an `srt://` source (what the
//! operator chose for this stream's path), and SRT's default (120 ms) for a `udp://` source, so a relayed SRT
//! stream is not held 120 ms at the viewer when its source was configured for less.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use srt_tokio::access::{RejectReason, ServerRejectReason};
use srt_tokio::{SrtIncoming, SrtListener, SrtSocket};
use tokio::task::JoinHandle;

use super::source::{DEFAULT_SRT_LATENCY, Source};

/// How long the node waits for the viewer's listener to answer the SRT handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a listener-mode output waits for its viewer to call.
pub const ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The shortest stream id a listener-mode output takes as its viewer's secret.
pub const MIN_STREAM_ID: usize = 16;
/// The longest (SRT's own limit for a stream id).
pub const MAX_STREAM_ID: usize = 512;

/// A connection to a viewer. When the viewer called, the listener it came through is kept for the connection's
/// life (srt-tokio's listener carries its connections and ends them when it is dropped), with a task refusing any
/// further caller.
pub struct Output {
    /// The connection.
    pub socket: SrtSocket,
    listening: Option<(SrtListener, JoinHandle<()>)>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("socket", &self.socket)
            .field("listener", &self.listening.is_some())
            .finish()
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if let Some((_, refuser)) = &self.listening {
            refuser.abort();
        }
    }
}

/// The latency the node offers a viewer of a stream from `source`: the stream's own for an SRT source, SRT's
/// default otherwise.
pub fn latency(source: Source) -> Duration {
    match source {
        Source::Srt(s) => s.latency,
        Source::Udp(_) => DEFAULT_SRT_LATENCY,
    }
}

/// Calls the SRT listener at `destination` for a stream from `source` (which sets the offered [`latency`]).
pub async fn connect(destination: SocketAddr, source: Source) -> io::Result<Output> {
    call(destination, source).await.map(|socket| Output { socket, listening: None })
}

async fn call(destination: SocketAddr, source: Source) -> io::Result<SrtSocket> {
    let local: SocketAddr = match destination {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::LOCALHOST, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::LOCALHOST, 0).into(),
    };
    let call = SrtSocket::builder()
        .local_ip(local.ip())
        .latency(latency(source))
        .set(|o| o.connect.timeout = CONNECT_TIMEOUT)
        .call(destination, None);
    match tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), call).await {
        Ok(result) => result,
        Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "the SRT listener did not answer")),
    }
}

/// Listens on `addr` (loopback) for a stream from `source` until a caller presents `stream_id`, for
/// [`ACCEPT_TIMEOUT`] at most; refuses every other caller.
pub async fn accept(addr: SocketAddr, source: Source, stream_id: &str) -> io::Result<Output> {
    let (listener, mut incoming) = SrtListener::builder().latency(latency(source)).bind(addr).await?;
    let deadline = tokio::time::Instant::now() + ACCEPT_TIMEOUT;
    loop {
        let request = match tokio::time::timeout_at(deadline, incoming.incoming().next()).await {
            Ok(Some(request)) => request,
            Ok(None) => return Err(io::Error::other("the SRT listener ended")),
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no caller presented the stream id in time",
                ));
            }
        };
        let remote = request.remote();
        let offered = request.stream_id().map(|id| id.as_bytes()).unwrap_or_default();
        if aws_lc_rs::constant_time::verify_slices_are_equal(offered, stream_id.as_bytes()).is_err() {
            tracing::warn!(%remote, "SRT output: a caller without the subscriber's stream id was refused");
            if let Err(e) = request.reject(RejectReason::Server(ServerRejectReason::Forbidden)).await {
                tracing::debug!(error = %e, "SRT reject failed");
            }
            continue;
        }
        let socket = request.accept(None).await?;
        let refuser = tokio::spawn(refuse_all(incoming));
        return Ok(Output { socket, listening: Some((listener, refuser)) });
    }
}

/// Refuses every further caller of a listener-mode output (its one viewer is connected).
async fn refuse_all(mut incoming: SrtIncoming) {
    while let Some(request) = incoming.incoming().next().await {
        tracing::warn!(remote = %request.remote(), "SRT output: a second caller was refused");
        if let Err(e) = request.reject(RejectReason::Server(ServerRejectReason::Conflict)).await {
            tracing::debug!(error = %e, "SRT reject failed");
        }
    }
}

/// Sends one datagram of packets as one SRT message; an error means the viewer is gone.
pub async fn send(socket: &mut SrtSocket, datagram: Bytes) -> io::Result<()> {
    socket.send((Instant::now(), datagram)).await
}
