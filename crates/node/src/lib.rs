//! The Redoubt node: configuration, the node PKI, the HTTPS server and its telemetry.
//!
//! This is the only crate that owns sockets, files of node state and the async runtime's tasks; the format and
//! policy crates below it stay pure. It must never log plaintext, keys or tokens, and never serve a route but
//! `/healthz` to a caller without an identity issued by this node.

pub mod admin;
pub mod admin_keys;
pub mod audit_sink;
pub mod config;
pub mod fmv;
mod fsx;
pub mod http;
pub mod identities;
pub mod identity;
pub mod kas;
pub mod keys;
pub mod metrics;
pub mod objects;
pub mod pki;
mod server;
pub mod telemetry;
mod tls;
pub mod tokens;

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
    /// The object service (store, keys, policy, identities, audit) could not be opened.
    #[error("cannot start the object service: {0}")]
    Service(String),
    /// A configured FMV stream could not start.
    #[error(transparent)]
    Fmv(#[from] fmv::FmvStartError),
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
    service: Service,
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
        let service = {
            let (cfg, pki_dir, port) = (config.clone(), pki.dir.clone(), local_addr.port());
            tokio::task::spawn_blocking(move || Service::open(&cfg, &pki_dir, port))
                .await
                .map_err(|e| StartError::Setup(format!("service task failed: {e}")))??
        };
        let mut service = service;
        service.tokens =
            tokens::Tokens::from_config(&config, service.pdp.clone()).map_err(StartError::Service)?;
        Ok(Self { config, pki, service, listener, local_addr, _lock: lock })
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
        let service = self.service;
        let pki = Arc::new(self.pki);
        let registry = Arc::new(
            identities::Registry::open(&self.config.data_dir, &pki, service.pdp.clone())
                .map_err(|e| StartError::Service(e.to_string()))?,
        );
        let objects = objects::ObjectService::new(
            service.store.clone(),
            service.pdp.clone(),
            service.audit.clone(),
            Arc::new(service.keys.clone()),
            metrics.clone(),
        );
        let tokens = service.tokens.clone();
        let recorder_objects = objects.clone();
        let mut builder = s3s::service::S3ServiceBuilder::new(objects);
        builder.set_auth(objects::auth::Keys(registry.clone()));
        builder.set_access(objects::auth::Access(registry.clone()));
        let s3 = builder.build();
        let admin = Arc::new(admin::AdminState {
            registry: registry.clone(),
            pki,
            pdp: service.pdp.clone(),
            audit: service.audit.clone(),
            keys: service.keys.clone(),
            data_dir: self.config.data_dir.clone(),
        });
        let key_admin = Arc::new(admin_keys::KeyAdmin {
            admin: admin.clone(),
            keys: service.keys.clone(),
            store: service.store.clone(),
            pending: std::sync::Mutex::default(),
        });
        let kas = Arc::new(kas::KasState::new(
            service.keys.clone(),
            service.pdp.clone(),
            service.audit.clone(),
            metrics.clone(),
        ));
        let fmv = fmv::FmvState::start(
            &self.config.fmv_streams,
            service.pdp.clone(),
            service.audit.clone(),
            registry.clone(),
            metrics.clone(),
            recorder_objects,
        )
        .await?;
        let stop_fmv = fmv.clone();
        let recorders = fmv.clone();
        let state = Arc::new(http::AppState {
            fmv: Some(fmv),
            metrics: metrics.clone(),
            ready: false.into(),
            admin: Some(admin),
            key_admin: Some(key_admin),
            kas: Some(kas),
        });
        let server = server::Server {
            listener: self.listener,
            tls: tokio_rustls::TlsAcceptor::from(tls),
            app: http::router(state.clone()),
            s3: Some(s3),
            registry,
            tokens,
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
                stop_fmv.stop();
            })
            .await;
        // The recorders store their partial segments (audited) before the audit log closes.
        recorders.finish_recordings(std::time::Duration::from_secs(10)).await;
        let audit = service.audit.clone();
        match tokio::task::spawn_blocking(move || audit.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "final audit checkpoint failed"),
            Err(e) => tracing::error!(error = %e, "final audit checkpoint failed"),
        }
        tracing::info!(cut, "stopped");
        Ok(cut)
    }
}

/// The object service's state, opened at start.
#[derive(Debug)]
struct Service {
    store: Arc<redoubt_store::Store>,
    pdp: Arc<redoubt_policy::Pdp>,
    keys: keys::NodeKeys,
    audit: audit_sink::AuditSink,
    tokens: Option<Arc<tokens::Tokens>>,
}

/// The domain's SPIF when none is configured: the NATO policy (spiffing's, MIT; see policies/LICENSE.spiffing).
const DEFAULT_SPIF: &[u8] = include_bytes!("../../../policies/nato-spif.xml");
/// Folder of the object store in the data folder. Do not change.
pub const STORE_DIR: &str = "store";

/// The domain's decision point as a node builds it: the domain SPIF and the shipped default policies.
pub fn default_pdp() -> Result<redoubt_policy::Pdp, String> {
    let spif = redoubt_label::Spif::from_xml(DEFAULT_SPIF, redoubt_label::Mode::Strict)
        .map_err(|e| format!("the domain SPIF: {e}"))?;
    redoubt_policy::Pdp::with_defaults(spif).map_err(|e| format!("the domain policies: {e}"))
}

impl Service {
    fn open(config: &Config, pki_dir: &std::path::Path, port: u16) -> Result<Service, StartError> {
        let data_dir = config.data_dir.as_path();
        let fail = |what: &str, e: &dyn std::fmt::Display| StartError::Service(format!("{what}: {e}"));
        let pdp = default_pdp().map_err(StartError::Service)?;
        let store = redoubt_store::Store::open(&data_dir.join(STORE_DIR))
            .map_err(|e| fail("the object store", &e))?;
        let report = store.open_report();
        if report.orphans_removed > 0 || report.tmp_removed > 0 {
            tracing::info!(
                orphans = report.orphans_removed,
                tmp = report.tmp_removed,
                "object store: removed what an interrupted write left"
            );
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (keys, warnings) = keys::NodeKeys::open(config, port, now).map_err(|e| fail("the keys", &e))?;
        for w in warnings {
            tracing::warn!("{w}");
        }
        let node_key = zeroize::Zeroizing::new(
            std::fs::read(pki_dir.join("node.key")).map_err(|e| fail("the node key", &e))?,
        );
        let audit =
            audit_sink::AuditSink::open(data_dir, &node_key).map_err(|e| fail("the audit log", &e))?;
        Ok(Service { store: Arc::new(store), pdp: Arc::new(pdp), keys, audit, tokens: None })
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
