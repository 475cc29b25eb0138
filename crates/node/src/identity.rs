//! Who is on the other end of a connection: the client certificate, checked by rustls against the node CA, is
//! reduced to its SHA-256 fingerprint once per connection ([`PeerCert`]); each request then looks the fingerprint
//! up among the live identities ([`Peer`]), so a revocation takes effect on the next request, even on a
//! connection that is already open. A certificate the CA signed but the node does not know (never issued here,
//! or revoked) authenticates nobody.

use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::identities::{Principal, Registry};
use crate::pki::sha256_hex;

/// The fingerprint of the client certificate of a connection, if one was presented.
#[derive(Debug, Clone)]
pub struct PeerCert(pub Option<Arc<str>>);

impl PeerCert {
    /// From the (already CA-verified) chain rustls accepted.
    pub fn from_chain(chain: Option<&[CertificateDer<'_>]>) -> Self {
        PeerCert(chain.and_then(|c| c.first()).map(|leaf| Arc::from(sha256_hex(leaf.as_ref()))))
    }
}

/// The caller of one request, by certificate: an identity, or nobody.
#[derive(Debug, Clone)]
pub struct Peer(pub Option<Arc<Principal>>);

impl Peer {
    /// Looks the connection's certificate up in the live registry.
    pub fn resolve(cert: &PeerCert, registry: &Registry) -> Self {
        Peer(cert.0.as_deref().and_then(|fp| registry.by_fingerprint(fp)))
    }
}
