//! The HTTPS accept loop: TLS with optional client certificates, HTTP/1.1 and HTTP/2, connection limits and
//! timeouts, and graceful shutdown.
//!
//! Shutdown: on the signal the node stops accepting and reports not ready; every connection already accepted,
//! including one still in its TLS handshake, is served its in-flight request (hyper's graceful shutdown: a
//! connection busy with a request finishes it, an idle keep-alive connection closes); the loop then waits for
//! all connections to close, at most the grace period.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::identities::Registry;
use crate::identity::{Peer, PeerCert};
use crate::metrics::Metrics;

/// A client has this long to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A client has this long to send a complete request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest HTTP/1 request head (request line and headers); a larger one gets 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest HTTP/2 header list.
const MAX_H2_HEADER_LIST: u32 = 64 * 1024;
/// HTTP/2 streams per connection.
const MAX_H2_STREAMS: u32 = 256;
/// HTTP/1 read buffer for bodies (uploads), above the head limit.
const BODY_READ_BUFFER: usize = 256 * 1024;
/// At shutdown, a connection that has not sent its first request yet gets this long to send it.
const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(2);

/// Everything the accept loop needs.
pub struct Server {
    /// Bound listener.
    pub listener: TcpListener,
    /// TLS acceptor (server certificate, client verifier).
    pub tls: TlsAcceptor,
    /// The node's own routes.
    pub app: Router,
    /// The S3 API, served for every path that is not one of the node's own routes.
    pub s3: Option<s3s::service::S3Service>,
    /// The live identities.
    pub registry: Arc<Registry>,
    /// Bearer-token verification, when OIDC is configured.
    pub tokens: Option<Arc<crate::tokens::Tokens>>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Connections served at once.
    pub max_connections: usize,
    /// How long to wait for connections after the shutdown signal.
    pub grace: Duration,
}

impl Server {
    /// Serves until `shutdown` completes, then drains connections. Returns the number of connections still
    /// open when the grace period ran out (0 for a clean shutdown).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> usize {
        let permits = u32::try_from(self.max_connections).unwrap_or(u32::MAX);
        let slots = Arc::new(Semaphore::new(permits as usize));
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let (tcp, remote) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(%err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let conn = Connection {
                tls: self.tls.clone(),
                app: self.app.clone(),
                s3: self.s3.clone(),
                registry: self.registry.clone(),
                tokens: self.tokens.clone(),
                metrics: self.metrics.clone(),
                stop: stop_rx.clone(),
            };
            tokio::spawn(async move {
                conn.serve(tcp, remote).await;
                drop(permit);
            });
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        let in_use = || (permits as usize).saturating_sub(slots.available_permits());
        tracing::info!(open_connections = in_use(), "shutting down: draining connections");
        match tokio::time::timeout(self.grace, slots.acquire_many(permits)).await {
            Ok(_) => 0,
            Err(_) => {
                let left = in_use();
                tracing::warn!(
                    left,
                    grace_secs = self.grace.as_secs(),
                    "grace period over: closing connections"
                );
                left
            }
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("listener", &self.listener).finish_non_exhaustive()
    }
}

/// A hyper connection that can be asked to finish its current work and close.
trait GracefulConnection: Future<Output = Result<(), hyper::Error>> {
    fn shut_down(self: std::pin::Pin<&mut Self>);
}

impl<I, S> GracefulConnection for http1::Connection<I, S>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin + 'static,
    S::ResBody: hyper::body::Body + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn shut_down(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

impl<I, S, E> GracefulConnection for http2::Connection<I, S, E>
where
    S: hyper::service::HttpService<Incoming>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S::ResBody: hyper::body::Body + 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: hyper::rt::bounds::Http2ServerConnExec<S::Future, S::ResBody>,
{
    fn shut_down(self: std::pin::Pin<&mut Self>) {
        self.graceful_shutdown();
    }
}

/// Serves a connection to its end. Shutdown has two steps. hyper closes a connection on which no bytes have
/// arrived yet as soon as it is told to shut down; but this connection's TLS handshake is done, so its client may
/// have a request in flight. So: first wait (at most FIRST_REQUEST_WAIT) for the first request to arrive, then
/// tell hyper, which finishes the request in progress and closes the connection.
async fn drive<C: GracefulConnection>(
    conn: C,
    mut stop: watch::Receiver<bool>,
    first_request: Arc<tokio::sync::Notify>,
    remote: std::net::SocketAddr,
) {
    tokio::pin!(conn);
    let mut phase = Phase::Serving;
    let wait = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(wait);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%remote, %err, "connection ended with an error");
                }
                break;
            }
            _ = stop.wait_for(|stop| *stop), if phase == Phase::Serving => {
                wait.as_mut().reset(tokio::time::Instant::now() + FIRST_REQUEST_WAIT);
                phase = Phase::AwaitingFirstRequest;
            }
            () = first_request.notified(), if phase == Phase::AwaitingFirstRequest => {
                phase = Phase::Draining;
                conn.as_mut().shut_down();
            }
            () = &mut wait, if phase == Phase::AwaitingFirstRequest => {
                phase = Phase::Draining;
                conn.as_mut().shut_down();
            }
        }
    }
}

/// Where a connection is in the shutdown sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No shutdown yet.
    Serving,
    /// Shutdown started; waiting for a request to arrive if one has not yet.
    AwaitingFirstRequest,
    /// hyper told to finish the request in progress and close.
    Draining,
}

struct Connection {
    tls: TlsAcceptor,
    app: Router,
    s3: Option<s3s::service::S3Service>,
    registry: Arc<Registry>,
    tokens: Option<Arc<crate::tokens::Tokens>>,
    metrics: Arc<Metrics>,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn serve(self, tcp: tokio::net::TcpStream, remote: std::net::SocketAddr) {
        let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.tls.accept(tcp)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                self.metrics.handshake_failures.inc();
                tracing::debug!(%remote, %err, "TLS handshake failed");
                return;
            }
            Err(_) => {
                self.metrics.handshake_failures.inc();
                tracing::debug!(%remote, "TLS handshake timed out");
                return;
            }
        };
        let cert = PeerCert::from_chain(stream.get_ref().1.peer_certificates());
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        self.metrics.connections.inc();
        let app = self.app;
        let s3 = self.s3;
        let registry = self.registry;
        let tokens = self.tokens;
        let metrics = self.metrics.clone();
        let first_request = Arc::new(tokio::sync::Notify::new());
        let seen = first_request.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            seen.notify_one();
            // Looked up on every request: a revocation applies to open connections too.
            request.extensions_mut().insert(Peer::resolve(&cert, &registry));
            request.extensions_mut().insert(cert.clone());
            let bearer = match crate::http::bearer_token(&mut request, tokens.as_deref()) {
                Ok(b) => b,
                Err(refusal) => return futures::future::Either::Left(std::future::ready(Ok(*refusal))),
            };
            if let Some(p) = bearer {
                request.extensions_mut().insert(crate::tokens::TokenPeer(p));
            }
            let route = crate::http::owns(request.uri().path());
            let mut app = app.clone();
            let s3 = s3.clone().filter(|_| !route);
            let metrics = metrics.clone();
            futures::future::Either::Right(async move {
                match s3 {
                    Some(s3) => {
                        let started = std::time::Instant::now();
                        let method = request.method().as_str().to_owned();
                        let response = s3.call(request.map(s3s::Body::from)).await;
                        let status = response.as_ref().map_or(500, |r| r.status().as_u16());
                        metrics.observe_request("s3", &method, status, started.elapsed().as_secs_f64());
                        Ok(response
                            .map(|r| r.map(axum::body::Body::new))
                            .unwrap_or_else(|e| crate::http::s3_failure(&e)))
                    }
                    None => app.call(request).await,
                }
            })
        });
        // INVARIANT: the protocol comes from ALPN, never from sniffing the first bytes: a connection still
        // sniffing when shutdown starts would be dropped with its first request.
        let io = TokioIo::new(stream);
        if h2 {
            let conn = http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .max_header_list_size(MAX_H2_HEADER_LIST)
                .max_concurrent_streams(MAX_H2_STREAMS)
                .serve_connection(io, service);
            drive(conn, self.stop, first_request, remote).await;
        } else {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .max_header_size(MAX_HEAD_BYTES)
                .max_buf_size(MAX_HEAD_BYTES.max(BODY_READ_BUFFER))
                .serve_connection(io, service);
            drive(conn, self.stop, first_request, remote).await;
        }
        self.metrics.connections.dec();
    }
}
