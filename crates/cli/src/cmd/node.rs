//! Reaching a running node over HTTPS: the node CA as the only trust anchor, and a client certificate — the
//! bootstrap administrator's (`DATA_DIR/pki/admin.*`) unless `--cert`/`--key` name an identity's files (from
//! `redoubt identity create --out`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::Value;
use zeroize::Zeroizing;

use super::settings::ConfigArgs;

/// How to reach the node, and as whom.
#[derive(Debug, Args, Clone)]
pub struct NodeArgs {
    /// TOML config file of the node (default: none; or the REDOUBT_CONFIG environment variable)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The node's data folder, holding its CA and the administrator's credentials [default: ./redoubt-data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Node URL [default: https://127.0.0.1:<the configured listen port>]
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Client certificate (PEM) of the identity to act as [default: the administrator's, in the data folder]
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// Private key (PEM) of `--cert`
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// The node CA certificate (PEM) [default: DATA_DIR/pki/ca.pem]
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

/// An HTTPS client to one node, as one identity.
pub struct NodeClient {
    /// The node URL (no trailing `/`).
    pub url: String,
    /// The client.
    pub client: reqwest::blocking::Client,
    /// The identity's private key (PEM): it signs KAS request tokens.
    pub key_pem: Zeroizing<String>,
}

impl std::fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeClient").field("url", &self.url).finish_non_exhaustive()
    }
}

impl NodeArgs {
    /// Connects (lazily: the first call opens the connection).
    pub fn connect(&self) -> Result<NodeClient> {
        let config = ConfigArgs {
            config: self.config.clone(),
            data_dir: self.data_dir.clone(),
            listen: None,
            hostnames: Vec::new(),
            name: None,
            log_format: None,
            log_level: None,
        }
        .load()?;
        let pki = config.data_dir.join("pki");
        let url = match &self.url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("https://127.0.0.1:{}", config.listen.port()),
        };
        let ca_path = self.ca.clone().unwrap_or_else(|| pki.join("ca.pem"));
        let cert_path = self.cert.clone().unwrap_or_else(|| pki.join("admin.pem"));
        let key_path = self.key.clone().unwrap_or_else(|| pki.join("admin.key"));
        connect(url, &ca_path, &cert_path, &key_path)
    }
}

/// A client to `url` trusting the CA in `ca_path`, presenting the certificate and key given.
pub fn connect(url: String, ca_path: &Path, cert_path: &Path, key_path: &Path) -> Result<NodeClient> {
    {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_file(ca_path).with_context(|| {
            format!("cannot read the node CA `{}`: is --data-dir (or --ca) right?", ca_path.display())
        })?;
        roots.add(ca).map_err(|e| anyhow!("the node CA is unusable: {e}"))?;
        let chain = CertificateDer::pem_file_iter(cert_path)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .with_context(|| format!("cannot read the certificate `{}`", cert_path.display()))?;
        let key_pem = Zeroizing::new(
            std::fs::read_to_string(key_path)
                .with_context(|| format!("cannot read the private key `{}`", key_path.display()))?,
        );
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
            .map_err(|_| anyhow!("`{}` holds no private key", key_path.display()))?;
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow!("TLS setup: {e}"))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| anyhow!("the client certificate is unusable: {e}"))?;
        let client = reqwest::blocking::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(Duration::from_secs(60))
            .build()
            .context("cannot build the HTTPS client")?;
        Ok(NodeClient { url, client, key_pem })
    }
}

impl NodeClient {
    /// One JSON call to a path of the node; a refusal (403) is a negative answer (exit 1).
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.call_url(method, &format!("{}{path}", self.url), body)
    }

    /// One JSON call to a full URL (a KAS the user named).
    pub fn call_url(&self, method: reqwest::Method, url: &str, body: Option<Value>) -> Result<Value> {
        let mut req = self.client.request(method, url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().with_context(|| format!("cannot reach {url}: is the node running?"))?;
        let status = resp.status();
        let value: Value = resp.json().unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(value);
        }
        let message = value.get("error").and_then(Value::as_str).unwrap_or("no details").to_owned();
        if status == reqwest::StatusCode::FORBIDDEN || status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(crate::exit::Negative(format!("the node refused: {message}")).into());
        }
        bail!("the node answered {status}: {message}")
    }
}
