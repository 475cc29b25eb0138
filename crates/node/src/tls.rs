//! rustls configuration of the HTTPS listener: the node's server certificate, TLS 1.2 and 1.3 with rustls's
//! safe defaults (aws-lc-rs), ALPN for HTTP/2 and HTTP/1.1, and client certificates verified against the node
//! CA. A client certificate is optional at the TLS layer (so `/healthz` answers anyone), but one that does not
//! chain to the node CA fails the handshake.

use std::sync::Arc;

use rustls::server::WebPkiClientVerifier;

use crate::pki::NodePki;

/// The server's TLS configuration.
pub fn server_config(pki: &NodePki) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_cert.clone()).map_err(|e| format!("node CA unusable: {e}"))?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| format!("client verifier: {e}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
        .map_err(|e| format!("server certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
