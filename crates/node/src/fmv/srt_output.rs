//! SRT output: the node calls a listening viewer (a loopback address in this build) and sends it the stream's
//! datagrams, one SRT message each, unchanged. The subscriber logic (authorisation, re-checks, lease, cut-off)
//! is the UDP subscriber's; only the sink differs.
//!
//! Latency: SRT negotiates the larger of the two ends' latencies, and the viewer's receiver holds each message
//! until that window has passed. The node offers the stream's own `latency_ms` for an `srt://` source (what the
//! operator chose for this stream's path), and SRT's default (120 ms) for a `udp://` source, so a relayed SRT
//! stream is not held 120 ms at the viewer when its source was configured for less.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::SinkExt;
use srt_tokio::SrtSocket;

use super::source::{DEFAULT_SRT_LATENCY, Source};

/// How long the node waits for the viewer's listener to answer the SRT handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The latency the node offers a viewer of a stream from `source`: the stream's own for an SRT source, SRT's
/// default otherwise.
pub fn latency(source: Source) -> Duration {
    match source {
        Source::Srt(s) => s.latency,
        Source::Udp(_) => DEFAULT_SRT_LATENCY,
    }
}

/// Calls the SRT listener at `destination` for a stream from `source` (which sets the offered [`latency`]).
pub async fn connect(destination: SocketAddr, source: Source) -> io::Result<SrtSocket> {
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

/// Sends one datagram of packets as one SRT message; an error means the viewer is gone.
pub async fn send(socket: &mut SrtSocket, datagram: Bytes) -> io::Result<()> {
    socket.send((Instant::now(), datagram)).await
}
