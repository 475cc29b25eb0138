//! A minimal HTTPS GET over a fresh connection that reports *where* it failed, for tests that must tell
//! "the node refused the connection" from "the node dropped a request it had accepted".

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// How a raw request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawOutcome {
    /// A complete response with this status.
    Response(u16),
    /// TCP connect or the TLS handshake failed: the node never took the request.
    NotAccepted(String),
    /// The TLS session was up and the request sent, but no complete response came back: a lost request.
    Lost(String),
}

/// `GET path` on a new TLS connection with `Connection: close`.
pub fn raw_get(addr: SocketAddr, config: Arc<rustls::ClientConfig>, path: &str) -> RawOutcome {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    raw_request(addr, config, request.as_bytes())
}

/// Sends `request` (exact bytes, HTTP/1.1) on a new TLS connection and reads the response until the node
/// closes the connection.
pub fn raw_request(addr: SocketAddr, config: Arc<rustls::ClientConfig>, request: &[u8]) -> RawOutcome {
    let mut tcp = match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
        Ok(tcp) => tcp,
        Err(e) => return RawOutcome::NotAccepted(format!("connect: {e}")),
    };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let name = rustls_pki_types::ServerName::try_from("localhost").map(|n| n.to_owned());
    let Ok(name) = name else { return RawOutcome::NotAccepted("server name".into()) };
    let mut conn = match rustls::ClientConnection::new(config, name) {
        Ok(c) => c,
        Err(e) => return RawOutcome::NotAccepted(format!("tls setup: {e}")),
    };
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            return RawOutcome::NotAccepted(format!("handshake: {e}"));
        }
    }
    let mut tls = rustls::Stream::new(&mut conn, &mut tcp);
    // The handshake completed, so the node's process holds this connection: from here on, any failure is a
    // request the node accepted and dropped.
    if let Err(e) = tls.write_all(request).and_then(|()| tls.flush()) {
        return RawOutcome::Lost(format!("write: {e}"));
    }
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return RawOutcome::Lost(format!("read: {e} after {} bytes", response.len())),
    }
    let head = String::from_utf8_lossy(&response);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    match status {
        Some(code) if head.starts_with("HTTP/1.1 ") => RawOutcome::Response(code),
        _ => RawOutcome::Lost(format!("no HTTP response: {} bytes", response.len())),
    }
}
