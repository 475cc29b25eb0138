//! Where a stream arrives: `udp://…` (datagrams) or `srt://…` (the node is an SRT listener on loopback and
//! accepts one caller at a time), and where a UDP or SRT subscriber's packets go. Pure parsing: no sockets.

use std::net::SocketAddr;
use std::time::Duration;

use super::config::{UdpSource, parse_udp_source};

/// SRT latency when a stream does not set `latency_ms` (SRT's own default).
pub const DEFAULT_SRT_LATENCY: Duration = Duration::from_millis(120);
/// The largest `latency_ms` accepted.
pub const MAX_SRT_LATENCY_MS: u64 = 10_000;

/// A stream's source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// UDP datagrams (loopback unicast or a multicast group joined on loopback).
    Udp(UdpSource),
    /// An SRT listener on a loopback address, accepting one caller at a time.
    Srt(SrtSource),
}

/// An SRT listener's address and latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrtSource {
    /// The loopback address the node listens on.
    pub addr: SocketAddr,
    /// The receive latency window.
    pub latency: Duration,
}

impl Source {
    /// The local address (a UDP and an SRT source cannot share one: SRT runs over UDP).
    pub fn addr(self) -> SocketAddr {
        match self {
            Source::Udp(u) => u.0,
            Source::Srt(s) => s.addr,
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Udp(u) => u.fmt(f),
            Source::Srt(s) => write!(f, "srt://{}", s.addr),
        }
    }
}

/// Parses a stream's `listen` (and its `latency_ms`, SRT only).
pub fn parse_source(listen: &str, latency_ms: Option<i64>) -> Result<Source, String> {
    if listen.starts_with("srt://") {
        let addr = parse_srt_url(listen)?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "`{listen}` is not a loopback address; this build listens for SRT on loopback only"
            ));
        }
        let latency = match latency_ms {
            None => DEFAULT_SRT_LATENCY,
            Some(ms) if (1..=MAX_SRT_LATENCY_MS as i64).contains(&ms) => {
                Duration::from_millis(ms.unsigned_abs())
            }
            Some(ms) => return Err(format!("`latency_ms` is {ms}; expected 1 to {MAX_SRT_LATENCY_MS}")),
        };
        return Ok(Source::Srt(SrtSource { addr, latency }));
    }
    if latency_ms.is_some() {
        return Err("`latency_ms` applies to srt:// sources only".to_owned());
    }
    parse_udp_source(listen).map(Source::Udp)
}

/// Parses `srt://IP:PORT` (no query string) with a non-zero port.
pub fn parse_srt_url(text: &str) -> Result<SocketAddr, String> {
    let rest = text.strip_prefix("srt://").ok_or_else(|| format!("`{text}` does not start with srt://"))?;
    let addr: SocketAddr =
        rest.trim_end_matches('/').parse().map_err(|_| format!("`{text}` is not srt://ADDRESS:PORT"))?;
    if addr.port() == 0 {
        return Err(format!("`{text}` has port 0; name a port"));
    }
    Ok(addr)
}

/// Where a pushed subscriber's packets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// UDP datagrams of whole packets.
    Udp(SocketAddr),
    /// An SRT connection: the node calls a listening viewer.
    Srt(SocketAddr),
}

impl Destination {
    /// Parses `udp://IP:PORT` or `srt://IP:PORT`.
    pub fn parse(text: &str) -> Result<Destination, String> {
        if text.starts_with("srt://") {
            parse_srt_url(text).map(Destination::Srt)
        } else {
            super::config::parse_udp_url(text).map(Destination::Udp)
        }
    }

    /// The address.
    pub fn addr(self) -> SocketAddr {
        match self {
            Destination::Udp(a) | Destination::Srt(a) => a,
        }
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Destination::Udp(a) => write!(f, "udp://{a}"),
            Destination::Srt(a) => write!(f, "srt://{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srt_sources_are_loopback_with_a_bounded_latency() {
        let s = parse_source("srt://127.0.0.1:9000", Some(50)).unwrap();
        assert_eq!(
            s,
            Source::Srt(SrtSource {
                addr: "127.0.0.1:9000".parse().unwrap(),
                latency: Duration::from_millis(50)
            })
        );
        assert_eq!(s.to_string(), "srt://127.0.0.1:9000");
        assert!(
            matches!(parse_source("srt://[::1]:9000", None), Ok(Source::Srt(s)) if s.latency == DEFAULT_SRT_LATENCY)
        );
        assert!(parse_source("srt://10.0.0.1:9000", None).unwrap_err().contains("loopback"));
        assert!(parse_source("srt://127.0.0.1:0", None).unwrap_err().contains("port 0"));
        assert!(parse_source("srt://127.0.0.1:9000?mode=caller", None).is_err());
        assert!(parse_source("srt://127.0.0.1:9000", Some(0)).unwrap_err().contains("latency_ms"));
        assert!(parse_source("udp://127.0.0.1:9000", Some(10)).unwrap_err().contains("srt:// sources only"));
        assert!(matches!(parse_source("udp://127.0.0.1:9000", None), Ok(Source::Udp(_))));
    }

    #[test]
    fn destinations_parse_and_print() {
        let d = Destination::parse("srt://127.0.0.1:7000").unwrap();
        assert_eq!(d, Destination::Srt("127.0.0.1:7000".parse().unwrap()));
        assert_eq!(d.to_string(), "srt://127.0.0.1:7000");
        assert_eq!(Destination::parse("udp://127.0.0.1:7000").unwrap().to_string(), "udp://127.0.0.1:7000");
        assert!(Destination::parse("tcp://127.0.0.1:7000").is_err());
    }
}
