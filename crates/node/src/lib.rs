//! The Redoubt node: configuration, the node PKI, the HTTPS server and its telemetry.
//!
//! This is the only crate that owns sockets, files of node state and the async runtime's tasks; the format and
//! policy crates below it stay pure. It must never log plaintext, keys or tokens, and never serve a route but
//! `/healthz` to a caller without an identity issued by this node.

pub mod config;
mod fsx;
pub mod http;
pub mod identity;
pub mod metrics;
pub mod pki;
mod server;
pub mod telemetry;
mod tls;

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::net::TcpListener;

pub use config::Config;
pub use pki::NodePki;

/// Lock file in the data folder: one node process per data folder. Do not change.
pub const LOCK_FILE: &str = "redoubt.lock";

/// Why the node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data folder is locked by another process.
    #[error(
        "another redoubt process is using the data folder `{dir}` (it holds `{LOCK_FILE}`); stop it first"
    )]
    Locked { dir: PathBuf },
    /// The lock file could not be opened.
    #[error("cannot open the lock file `{path}`: {source}")]
    Lock { path: PathBuf, source: std::io::Error },
    /// The PKI could not be loaded or bootstrapped.
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    /// The TLS configuration or the runtime could not be set up.
    #[error("cannot start: {0}")]
    Setup(String),
    /// The listener could not be bound.
    #[error(
        "cannot listen on `{addr}`: {source}; is another process using the port? choose another with --listen"
    )]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A node that has loaded its state and bound its port, ready to serve.
#[derive(Debug)]
pub struct Node {
    config: Config,
    pki: NodePki,
    listener: TcpListener,
    local_addr: SocketAddr,
    _lock: File,
}

/// What an operator needs to reach a started node.
#[derive(Debug, Clone)]
pub struct StartInfo {
    /// The node's URL (a loopback address when listening on all addresses).
    pub url: String,
    /// The bound address.
    pub local_addr: SocketAddr,
    /// The node CA certificate file.
    pub ca_file: PathBuf,
    /// CA fingerprint, colon-separated hex.
    pub ca_fingerprint: String,
    /// The administrator's certificate and key files.
    pub admin_cert: PathBuf,
    /// The administrator's private key file.
    pub admin_key: PathBuf,
    /// True when this start bootstrapped the node.
    pub bootstrapped: bool,
}

impl Node {
    /// Takes the data folder's lock, loads or bootstraps the PKI and binds the listener.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let data_dir = config.data_dir.clone();
        std::fs::create_dir_all(&data_dir)
            .map_err(|source| StartError::Lock { path: data_dir.clone(), source })?;
        let lock_path = data_dir.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| StartError::Lock { path: lock_path.clone(), source })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StartError::Locked { dir: data_dir }),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(StartError::Lock { path: lock_path, source });
            }
        }
        let mut hostnames = config.hostnames.clone();
        if !config.listen.ip().is_unspecified() {
            hostnames.push(config.listen.ip().to_string());
        }
        let pki = {
            let (dir, name) = (data_dir.clone(), config.name.clone());
            tokio::task::spawn_blocking(move || pki::open_or_bootstrap(&dir, &name, &hostnames))
                .await
                .map_err(|e| StartError::Setup(format!("bootstrap task failed: {e}")))??
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let local_addr =
            listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
        Ok(Self { config, pki, listener, local_addr, _lock: lock })
    }

    /// How to reach the node.
    pub fn info(&self) -> StartInfo {
        let host = match self.local_addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => "127.0.0.1".to_owned(),
            SocketAddr::V6(a) if a.ip().is_unspecified() => "[::1]".to_owned(),
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        let admin = self.pki.admin();
        StartInfo {
            url: format!("https://{host}:{}", self.local_addr.port()),
            local_addr: self.local_addr,
            ca_file: self.pki.path("ca.pem"),
            ca_fingerprint: self.pki.ca_fingerprint_display(),
            admin_cert: self.pki.path(admin.map_or("admin.pem", |a| a.cert.as_str())),
            admin_key: self.pki.path(admin.map_or("admin.key", |a| a.key.as_str())),
            bootstrapped: self.pki.bootstrapped,
        }
    }

    /// Serves until `shutdown` completes, then drains in-flight requests for at most the grace period.
    /// Returns the number of connections cut when the grace period ran out.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) -> Result<usize, StartError> {
        let tls = tls::server_config(&self.pki).map_err(StartError::Setup)?;
        let metrics = metrics::Metrics::new();
        let state = Arc::new(http::AppState { metrics: metrics.clone(), ready: false.into() });
        let server = server::Server {
            listener: self.listener,
            tls: tokio_rustls::TlsAcceptor::from(tls),
            app: http::router(state.clone()),
            directory: Arc::new(identity::Directory::new(&self.pki.manifest.identities)),
            metrics,
            max_connections: self.config.max_connections,
            grace: self.config.shutdown_grace,
        };
        state.ready.store(true, Ordering::Release);
        tracing::info!(addr = %self.local_addr, node = %self.config.name, "serving");
        let ready = state.clone();
        let cut = server
            .run(async move {
                shutdown.await;
                ready.ready.store(false, Ordering::Release);
            })
            .await;
        tracing::info!(cut, "stopped");
        Ok(cut)
    }
}

/// Resolves when the process receives SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}

/// Runs a node on its own multi-threaded runtime until SIGINT or SIGTERM: start, call `on_start` (the binary
/// prints its banner there), serve, drain. Returns the number of connections cut when the grace period ran out.
pub fn run_until_signal(config: Config, on_start: impl FnOnce(&StartInfo)) -> Result<usize, StartError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("redoubt")
        .build()
        .map_err(|e| StartError::Setup(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let node = Node::start(config).await?;
        on_start(&node.info());
        node.serve(shutdown_signal()).await
    })
}
