//! Who is on the other end of a connection: the client certificate, checked by rustls against the node CA,
//! then looked up by its SHA-256 fingerprint among the identities this node issued. A certificate the CA signed
//! but the node does not know (never issued here, or removed) authenticates nobody.

use std::collections::HashMap;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;

use crate::pki::{IdentityRecord, Role, sha256_hex};

/// An authenticated identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Identity name.
    pub name: String,
    /// What it may do.
    pub role: Role,
}

/// The caller of one request: an identity, or nobody.
#[derive(Debug, Clone)]
pub struct Peer(pub Option<Arc<Identity>>);

/// Identities known to the node, by certificate fingerprint.
#[derive(Debug, Default)]
pub struct Directory {
    by_fingerprint: HashMap<String, Arc<Identity>>,
}

impl Directory {
    /// A directory of the given identities.
    pub fn new(records: &[IdentityRecord]) -> Self {
        let by_fingerprint = records
            .iter()
            .map(|r| (r.fingerprint.clone(), Arc::new(Identity { name: r.name.clone(), role: r.role })))
            .collect();
        Self { by_fingerprint }
    }

    /// The caller presenting this (already CA-verified) certificate chain, if any.
    pub fn identify(&self, chain: Option<&[CertificateDer<'_>]>) -> Peer {
        let identity = chain
            .and_then(|c| c.first())
            .and_then(|leaf| self.by_fingerprint.get(&sha256_hex(leaf.as_ref())).cloned());
        Peer(identity)
    }
}
