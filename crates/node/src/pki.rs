//! The node PKI: bootstrap on first start, strict load on every later start.
//!
//! Layout of `DATA_DIR/pki/` (format version 1):
//! - `node.json` — the manifest: node name and id, CA fingerprint, the SHA-256 of every file below except the
//!   server certificate, and the identities issued at bootstrap;
//! - `ca.pem`, `ca.key` — the node CA (ECDSA P-384), which issues every certificate of this node;
//! - `admin.pem`, `admin.key` — the first administrator's client certificate and key (ECDSA P-256);
//! - `node.pem`, `node.key` — the node's own identity (client and server auth, for federation and signing);
//! - `server.pem`, `server.key` — the HTTPS server certificate. Derived state: re-issued from the CA whenever it is
//!   missing, damaged, about to expire, or lacks a hostname the configuration asks for.
//!
//! INVARIANT: bootstrap is atomic. Everything is written and fsynced into `DATA_DIR/.pki-staging-*`, and the one
//! `rename` to `DATA_DIR/pki` commits it; a staging folder found later was never committed and is removed. So a
//! `pki/` folder either is complete or was damaged afterwards, and damage is refused with the file named.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose,
};
use rustls::client::danger::ServerCertVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::fsx;

/// Name of the PKI folder inside the data folder. Do not change: existing nodes keep their state there.
pub const PKI_DIR: &str = "pki";
/// Manifest file name. Do not change.
pub const MANIFEST: &str = "node.json";
/// Manifest `format` value. Do not change.
const MANIFEST_FORMAT: &str = "redoubt-pki";
/// Current manifest version. Bump it (and keep reading the old one) when the layout changes.
const MANIFEST_VERSION: u32 = 1;
/// Largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
/// Largest certificate or key file read.
const MAX_PEM_BYTES: u64 = 64 * 1024;
/// A server certificate closer than this to expiry is re-issued at start.
const RENEW_BEFORE: Duration = Duration::from_secs(30 * 24 * 3600);

const CA_YEARS: i64 = 10;
const LEAF_YEARS: i64 = 2;

/// What an identity may do. Later issues add reader, writer, officer, operator and auditor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The first administrator, created at bootstrap.
    Administrator,
    /// The node itself.
    Node,
}

/// An identity issued by this node's CA, recognised by the SHA-256 fingerprint of its certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRecord {
    /// Identity name (the certificate's common name).
    pub name: String,
    /// What the identity may do.
    pub role: Role,
    /// Certificate file in the PKI folder.
    pub cert: String,
    /// Private key file in the PKI folder.
    pub key: String,
    /// Lower-case hex SHA-256 of the certificate's DER.
    pub fingerprint: String,
}

/// The manifest `pki/node.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always `redoubt-pki`.
    pub format: String,
    /// Layout version.
    pub version: u32,
    /// Node name at bootstrap.
    pub node_name: String,
    /// Random node id, lower-case hex.
    pub node_id: String,
    /// Bootstrap time, RFC 3339.
    pub created: String,
    /// Lower-case hex SHA-256 of the CA certificate's DER.
    pub ca_fingerprint: String,
    /// SHA-256 (lower-case hex) of every file the manifest protects, by file name.
    pub files: BTreeMap<String, String>,
    /// Identities issued at bootstrap.
    pub identities: Vec<IdentityRecord>,
}

/// A loaded, checked node PKI.
#[derive(Debug)]
pub struct NodePki {
    /// `DATA_DIR/pki`.
    pub dir: PathBuf,
    /// The manifest.
    pub manifest: Manifest,
    /// The CA certificate.
    pub ca_cert: CertificateDer<'static>,
    /// The server certificate chain (leaf, CA).
    pub server_chain: Vec<CertificateDer<'static>>,
    /// The server private key.
    pub server_key: PrivateKeyDer<'static>,
    /// True when this start created the PKI.
    pub bootstrapped: bool,
    /// True when this start re-issued the server certificate.
    pub server_reissued: bool,
}

impl NodePki {
    /// Path of a file in the PKI folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The identity bootstrap created for the first administrator.
    pub fn admin(&self) -> Option<&IdentityRecord> {
        self.manifest.identities.iter().find(|i| i.role == Role::Administrator)
    }

    /// CA fingerprint as colon-separated upper-case hex, the form operators compare by eye.
    pub fn ca_fingerprint_display(&self) -> String {
        colon_hex(&self.manifest.ca_fingerprint)
    }
}

/// Why the PKI could not be bootstrapped or loaded. Every message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// An I/O error on a named file.
    #[error("cannot {action} `{path}`: {source}")]
    Io { action: &'static str, path: PathBuf, source: io::Error },
    /// The data folder holds files but no node state.
    #[error(
        "`{dir}` is not empty and holds no Redoubt node state (no `{PKI_DIR}/{MANIFEST}`): refusing to bootstrap \
         a node over foreign files; point --data-dir at an empty or new folder"
    )]
    ForeignDir { dir: PathBuf },
    /// A file of the node state is missing, changed, unreadable or malformed.
    #[error(
        "node state file `{path}` {problem}; the data folder is damaged: restore it from a backup, or move the data \
         folder away and run `redoubt up` again to bootstrap a new node (with a new CA: every credential it issued \
         must then be issued again)"
    )]
    Damaged { path: PathBuf, problem: String },
    /// A private key file is readable by others.
    #[error(
        "private key `{path}` has mode {mode:o}, readable by others: run `chmod 600 {path}` and start again"
    )]
    KeyExposed { path: PathBuf, mode: u32 },
    /// Certificate generation failed (a bug or an unusable hostname).
    #[error("cannot issue the {what} certificate: {message}")]
    Issue { what: &'static str, message: String },
}

fn io_err<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> PkiError + 'a {
    move |source| PkiError::Io { action, path: path.to_path_buf(), source }
}

fn damaged(path: &Path, problem: impl Into<String>) -> PkiError {
    PkiError::Damaged { path: path.to_path_buf(), problem: problem.into() }
}

/// Loads the PKI from `data_dir`, bootstrapping it on first start, and makes sure the server certificate covers
/// `hostnames` (DNS names or IP addresses) besides `localhost`, `127.0.0.1` and `::1`.
pub fn open_or_bootstrap(
    data_dir: &Path,
    node_name: &str,
    hostnames: &[String],
) -> Result<NodePki, PkiError> {
    fsx::create_dir(data_dir, fsx::DIR_MODE).map_err(io_err("create the data folder", data_dir))?;
    remove_stale_staging(data_dir)?;
    let pki_dir = data_dir.join(PKI_DIR);
    let bootstrapped = if pki_dir.exists() {
        false
    } else {
        refuse_foreign_files(data_dir)?;
        bootstrap(data_dir, node_name)?;
        true
    };
    let mut pki = load(&pki_dir)?;
    pki.bootstrapped = bootstrapped;
    ensure_server_cert(&mut pki, node_name, hostnames)?;
    Ok(pki)
}

fn remove_stale_staging(data_dir: &Path) -> Result<(), PkiError> {
    let entries = fs::read_dir(data_dir).map_err(io_err("list", data_dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err("list", data_dir))?;
        if entry.file_name().to_string_lossy().starts_with(".pki-staging-") {
            // Never committed (only the rename to `pki` commits), so nothing can depend on it.
            let path = entry.path();
            tracing::warn!(path = %path.display(), "removing an interrupted bootstrap's staging folder");
            fs::remove_dir_all(&path).map_err(io_err("remove", &path))?;
        }
    }
    Ok(())
}

fn refuse_foreign_files(data_dir: &Path) -> Result<(), PkiError> {
    let entries = fs::read_dir(data_dir).map_err(io_err("list", data_dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err("list", data_dir))?;
        if entry.file_name() != crate::LOCK_FILE {
            return Err(PkiError::ForeignDir { dir: data_dir.to_path_buf() });
        }
    }
    Ok(())
}

/// A freshly issued certificate and its key, as PEM.
#[derive(Debug)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// The certificate, DER.
    pub cert_der: CertificateDer<'static>,
    /// The private key, PKCS#8 PEM.
    pub key_pem: Zeroizing<String>,
}

fn bootstrap(data_dir: &Path, node_name: &str) -> Result<(), PkiError> {
    let mut id = [0u8; 16];
    aws_lc_rs::rand::fill(&mut id)
        .map_err(|_| PkiError::Issue { what: "node", message: "no randomness".into() })?;
    let node_id = hex::encode(id);
    let now = time::OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).map_err(issue("CA"))?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = dn(&format!("Redoubt node CA {node_name}"), node_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca_params.not_before = now - time::Duration::minutes(5);
    ca_params.not_after = now + time::Duration::days(365 * CA_YEARS);
    let ca_cert = ca_params.self_signed(&ca_key).map_err(issue("CA"))?;
    let ca_der = ca_cert.der().clone();
    let issuer = Issuer::new(ca_params, ca_key);

    let admin = issue_client(&issuer, "admin", node_name, &[ExtendedKeyUsagePurpose::ClientAuth])?;
    let node = issue_client(
        &issuer,
        node_name,
        node_name,
        &[ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth],
    )?;

    let staging = data_dir.join(format!(".pki-staging-{}-{node_id}", std::process::id()));
    fsx::create_dir(&staging, fsx::DIR_MODE).map_err(io_err("create", &staging))?;
    let ca_key_pem = Zeroizing::new(issuer.key().serialize_pem());
    let ca_pem = ca_cert.pem();
    let files: [(&str, &[u8], u32); 6] = [
        ("ca.pem", ca_pem.as_bytes(), fsx::PUBLIC_MODE),
        ("ca.key", ca_key_pem.as_bytes(), fsx::SECRET_MODE),
        ("admin.pem", admin.cert_pem.as_bytes(), fsx::PUBLIC_MODE),
        ("admin.key", admin.key_pem.as_bytes(), fsx::SECRET_MODE),
        ("node.pem", node.cert_pem.as_bytes(), fsx::PUBLIC_MODE),
        ("node.key", node.key_pem.as_bytes(), fsx::SECRET_MODE),
    ];
    let mut hashes = BTreeMap::new();
    for (name, bytes, mode) in files {
        let path = staging.join(name);
        fsx::write_new(&path, bytes, mode).map_err(io_err("write", &path))?;
        hashes.insert(name.to_owned(), sha256_hex(bytes));
    }
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_owned(),
        version: MANIFEST_VERSION,
        node_name: node_name.to_owned(),
        node_id,
        created: now
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| PkiError::Issue { what: "node", message: e.to_string() })?,
        ca_fingerprint: sha256_hex(&ca_der),
        files: hashes,
        identities: vec![
            IdentityRecord {
                name: "admin".to_owned(),
                role: Role::Administrator,
                cert: "admin.pem".to_owned(),
                key: "admin.key".to_owned(),
                fingerprint: sha256_hex(&admin.cert_der),
            },
            IdentityRecord {
                name: node_name.to_owned(),
                role: Role::Node,
                cert: "node.pem".to_owned(),
                key: "node.key".to_owned(),
                fingerprint: sha256_hex(&node.cert_der),
            },
        ],
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| PkiError::Issue { what: "node", message: e.to_string() })?;
    let manifest_path = staging.join(MANIFEST);
    fsx::write_new(&manifest_path, &json, fsx::PUBLIC_MODE).map_err(io_err("write", &manifest_path))?;
    fsx::sync_dir(&staging).map_err(io_err("sync", &staging))?;
    // The commit point: one rename makes the whole PKI visible at once.
    let pki_dir = data_dir.join(PKI_DIR);
    fs::rename(&staging, &pki_dir).map_err(io_err("commit the bootstrap into", &pki_dir))?;
    fsx::sync_dir(data_dir).map_err(io_err("sync", data_dir))?;
    tracing::info!(ca_fingerprint = %manifest.ca_fingerprint, "bootstrapped a new node PKI");
    Ok(())
}

fn issue(what: &'static str) -> impl FnOnce(rcgen::Error) -> PkiError {
    move |e| PkiError::Issue { what, message: e.to_string() }
}

fn dn(common_name: &str, node_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Redoubt");
    dn.push(DnType::OrganizationalUnitName, node_name);
    dn.push(DnType::CommonName, common_name);
    dn
}

fn leaf_params(common_name: &str, node_name: &str, sans: Vec<String>) -> Result<CertificateParams, PkiError> {
    let now = time::OffsetDateTime::now_utc();
    let mut params = CertificateParams::new(sans).map_err(issue("leaf"))?;
    params.distinguished_name = dn(common_name, node_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(365 * LEAF_YEARS);
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn issue_client(
    issuer: &Issuer<'_, KeyPair>,
    common_name: &str,
    node_name: &str,
    usages: &[ExtendedKeyUsagePurpose],
) -> Result<Issued, PkiError> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(issue("client"))?;
    let mut params = leaf_params(common_name, node_name, Vec::new())?;
    params.extended_key_usages = usages.to_vec();
    let cert = params.signed_by(&key, issuer).map_err(issue("client"))?;
    Ok(Issued {
        cert_pem: cert.pem(),
        cert_der: cert.der().clone(),
        key_pem: Zeroizing::new(key.serialize_pem()),
    })
}

fn load(pki_dir: &Path) -> Result<NodePki, PkiError> {
    let manifest_path = pki_dir.join(MANIFEST);
    let raw = read_bounded(&manifest_path, MAX_MANIFEST_BYTES)?;
    let manifest: Manifest = serde_json::from_slice(&raw)
        .map_err(|e| damaged(&manifest_path, format!("is not a valid node manifest ({e})")))?;
    if manifest.format != MANIFEST_FORMAT || manifest.version != MANIFEST_VERSION {
        return Err(damaged(
            &manifest_path,
            format!(
                "has format `{}` version {}, this redoubt reads `{MANIFEST_FORMAT}` version {MANIFEST_VERSION} \
                 (is it from a newer release?)",
                manifest.format, manifest.version
            ),
        ));
    }
    for (name, expected) in &manifest.files {
        if name.contains('/') || name.starts_with('.') {
            return Err(damaged(&manifest_path, format!("lists a file outside the PKI folder: `{name}`")));
        }
        let path = pki_dir.join(name);
        let bytes = read_bounded(&path, MAX_PEM_BYTES)?;
        if sha256_hex(&bytes) != *expected {
            return Err(damaged(
                &path,
                "does not match the SHA-256 recorded in node.json (changed or corrupt)",
            ));
        }
        if name.ends_with(".key") {
            let mode = fsx::mode(&path).map_err(io_err("inspect", &path))?;
            if mode & 0o077 != 0 {
                return Err(PkiError::KeyExposed { path, mode });
            }
        }
    }
    for required in ["ca.pem", "ca.key"]
        .into_iter()
        .chain(manifest.identities.iter().flat_map(|i| [i.cert.as_str(), i.key.as_str()]))
    {
        if !manifest.files.contains_key(required) {
            return Err(damaged(&manifest_path, format!("does not protect `{required}`")));
        }
    }
    let ca_path = pki_dir.join("ca.pem");
    let ca_cert = read_cert(&ca_path)?;
    if sha256_hex(&ca_cert) != manifest.ca_fingerprint {
        return Err(damaged(&ca_path, "does not match the CA fingerprint recorded in node.json"));
    }
    for identity in &manifest.identities {
        let path = pki_dir.join(&identity.cert);
        if sha256_hex(&read_cert(&path)?) != identity.fingerprint {
            return Err(damaged(&path, "does not match its fingerprint recorded in node.json"));
        }
        read_key(&pki_dir.join(&identity.key))?;
    }
    read_key(&pki_dir.join("ca.key"))?;
    Ok(NodePki {
        dir: pki_dir.to_path_buf(),
        manifest,
        ca_cert,
        server_chain: Vec::new(),
        server_key: PrivateKeyDer::Pkcs8(Vec::new().into()),
        bootstrapped: false,
        server_reissued: false,
    })
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, PkiError> {
    let meta = fs::metadata(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            damaged(path, "is missing")
        } else {
            io_err("read", path)(e)
        }
    })?;
    if meta.len() > max {
        return Err(damaged(path, format!("is larger than {max} bytes")));
    }
    fs::read(path).map_err(io_err("read", path))
}

fn read_cert(path: &Path) -> Result<CertificateDer<'static>, PkiError> {
    let bytes = read_bounded(path, MAX_PEM_BYTES)?;
    CertificateDer::from_pem_slice(&bytes).map_err(|_| damaged(path, "holds no PEM certificate"))
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, PkiError> {
    let bytes = Zeroizing::new(read_bounded(path, MAX_PEM_BYTES)?);
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| damaged(path, "holds no PEM private key"))
}

/// The names the server certificate must cover.
fn wanted_sans(hostnames: &[String]) -> Vec<String> {
    let mut sans = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    for h in hostnames {
        let canonical = h.parse::<IpAddr>().map_or_else(|_| h.to_ascii_lowercase(), |ip| ip.to_string());
        if !sans.contains(&canonical) {
            sans.push(canonical);
        }
    }
    sans
}

/// Loads the server certificate, re-issuing it when it is missing, does not chain to the node CA, does not match
/// its key, lacks a wanted name, or expires within [`RENEW_BEFORE`].
fn ca_issuer(pki: &NodePki) -> Result<Issuer<'static, KeyPair>, PkiError> {
    let ca_key_pem = Zeroizing::new(
        String::from_utf8(read_bounded(&pki.path("ca.key"), MAX_PEM_BYTES)?)
            .map_err(|_| damaged(&pki.path("ca.key"), "is not PEM text"))?,
    );
    let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(|e| damaged(&pki.path("ca.key"), e.to_string()))?;
    Issuer::from_ca_cert_der(&pki.ca_cert, ca_key).map_err(|e| damaged(&pki.path("ca.pem"), e.to_string()))
}

/// Issues a client certificate (P-256, client authentication) for a new identity from the node CA. The private
/// key is returned, never stored by the node.
pub fn issue_identity(pki: &NodePki, name: &str) -> Result<Issued, PkiError> {
    let issuer = ca_issuer(pki)?;
    issue_client(&issuer, name, &pki.manifest.node_name, &[ExtendedKeyUsagePurpose::ClientAuth])
}

fn ensure_server_cert(pki: &mut NodePki, node_name: &str, hostnames: &[String]) -> Result<(), PkiError> {
    let sans = wanted_sans(hostnames);
    let cert_path = pki.path("server.pem");
    let key_path = pki.path("server.key");
    match current_server_cert(pki, &cert_path, &key_path, &sans) {
        Ok((chain, key)) => {
            pki.server_chain = chain;
            pki.server_key = key;
            return Ok(());
        }
        Err(reason) => tracing::info!(%reason, "issuing a new server certificate"),
    }
    let issuer = ca_issuer(pki)?;
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(issue("server"))?;
    let mut params = leaf_params(node_name, node_name, sans)?;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &issuer).map_err(issue("server"))?;
    let key_pem = Zeroizing::new(key.serialize_pem());
    // The CA's own PEM file, already checked against node.json by `load`.
    let ca_pem = String::from_utf8(read_bounded(&pki.path("ca.pem"), MAX_PEM_BYTES)?)
        .map_err(|_| damaged(&pki.path("ca.pem"), "is not PEM text"))?;
    let chain_pem = format!("{}{ca_pem}", cert.pem());
    // Key first, then certificate: a crash in between leaves a pair that does not match, re-issued next start.
    fsx::write_atomic(&key_path, key_pem.as_bytes(), fsx::SECRET_MODE).map_err(io_err("write", &key_path))?;
    fsx::write_atomic(&cert_path, chain_pem.as_bytes(), fsx::PUBLIC_MODE)
        .map_err(io_err("write", &cert_path))?;
    pki.server_chain = vec![cert.der().clone(), pki.ca_cert.clone()];
    pki.server_key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| damaged(&key_path, "holds no PEM private key"))?;
    pki.server_reissued = true;
    Ok(())
}

type ServerPair = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn current_server_cert(
    pki: &NodePki,
    cert_path: &Path,
    key_path: &Path,
    sans: &[String],
) -> Result<ServerPair, String> {
    if !cert_path.exists() || !key_path.exists() {
        return Err("no server certificate yet".into());
    }
    let bytes = read_bounded(cert_path, MAX_PEM_BYTES).map_err(|e| e.to_string())?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{}` is not a PEM certificate chain", cert_path.display()))?;
    let key = read_key(key_path).map_err(|e| e.to_string())?;
    if fsx::mode(key_path).map_err(|e| e.to_string())? & 0o077 != 0 {
        return Err(format!("`{}` is readable by others", key_path.display()));
    }
    let Some((leaf, rest)) = chain.split_first() else {
        return Err("empty server certificate file".into());
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certified = rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider)
        .map_err(|e| format!("server key and certificate do not match: {e}"))?;
    drop(certified);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_cert.clone()).map_err(|e| format!("node CA unusable: {e}"))?;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| e.to_string())?;
    let horizon = UnixTime::since_unix_epoch(
        UnixTime::now()
            .as_secs()
            .checked_add(RENEW_BEFORE.as_secs())
            .map_or(Duration::MAX, Duration::from_secs),
    );
    for san in sans {
        let name = ServerName::try_from(san.clone()).map_err(|e| e.to_string())?;
        verifier
            .verify_server_cert(leaf, rest, &name, &[], horizon)
            .map_err(|e| format!("server certificate not valid for `{san}` within 30 days: {e}"))?;
    }
    Ok((chain, key))
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

fn colon_hex(hex_str: &str) -> String {
    hex_str
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_then_reload_keeps_the_same_ca_and_identities() {
        let dir = tempfile::tempdir().unwrap();
        let first = open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        assert!(first.bootstrapped && first.server_reissued);
        let second = open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        assert!(!second.bootstrapped && !second.server_reissued);
        assert_eq!(first.manifest.ca_fingerprint, second.manifest.ca_fingerprint);
        assert_eq!(first.manifest.identities, second.manifest.identities);
        for key in ["ca.key", "admin.key", "node.key", "server.key"] {
            assert_eq!(fsx::mode(&dir.path().join("pki").join(key)).unwrap(), 0o600, "{key}");
        }
    }

    #[test]
    fn new_hostname_reissues_only_the_server_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let first = open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        let second = open_or_bootstrap(dir.path(), "n1", &["fob.example.int".into()]).unwrap();
        assert!(second.server_reissued);
        assert_eq!(first.manifest.ca_fingerprint, second.manifest.ca_fingerprint);
        let third = open_or_bootstrap(dir.path(), "n1", &["FOB.example.int".into()]).unwrap();
        assert!(!third.server_reissued, "names compare case-insensitively");
    }

    #[test]
    fn tampered_or_missing_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        let admin = dir.path().join("pki/admin.pem");
        let original = fs::read(&admin).unwrap();
        fs::write(&admin, b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").unwrap();
        let err = open_or_bootstrap(dir.path(), "n1", &[]).unwrap_err().to_string();
        assert!(err.contains("admin.pem") && err.contains("SHA-256"), "{err}");
        fs::write(&admin, &original).unwrap();
        fs::remove_file(dir.path().join("pki/ca.key")).unwrap();
        let err = open_or_bootstrap(dir.path(), "n1", &[]).unwrap_err().to_string();
        assert!(err.contains("ca.key") && err.contains("is missing"), "{err}");
    }

    #[test]
    fn exposed_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        let key = dir.path().join("pki/node.key");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let err = open_or_bootstrap(dir.path(), "n1", &[]).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");
    }

    #[test]
    fn interrupted_bootstrap_is_discarded_and_foreign_dirs_refused() {
        let dir = tempfile::tempdir().unwrap();
        let staging = dir.path().join(".pki-staging-1-abc");
        fs::create_dir(&staging).unwrap();
        fs::write(staging.join("ca.pem"), b"half").unwrap();
        open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        assert!(!staging.exists());

        let foreign = tempfile::tempdir().unwrap();
        fs::write(foreign.path().join("notes.txt"), b"mine").unwrap();
        let err = open_or_bootstrap(foreign.path(), "n1", &[]).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        assert!(!foreign.path().join("pki").exists());
    }

    #[test]
    fn damaged_server_certificate_is_reissued() {
        let dir = tempfile::tempdir().unwrap();
        open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        fs::write(dir.path().join("pki/server.pem"), b"garbage").unwrap();
        let pki = open_or_bootstrap(dir.path(), "n1", &[]).unwrap();
        assert!(pki.server_reissued);
        assert_eq!(pki.server_chain.len(), 2);
    }
}
