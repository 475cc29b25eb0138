//! Checkpoint signing and verification keys: ECDSA P-256 with SHA-256 (fixed `r || s` signatures), aws-lc-rs.
//!
//! The node signs with its identity key (`pki/node.key`, PKCS#8); an HSM-backed key implements
//! [`CheckpointSigner`] instead. Verifiers take the public key as SPKI (`PUBLIC KEY` PEM) or from the node
//! certificate (`pki/node.pem`).

use std::fmt;

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, ParsedPublicKey,
};
use rustls_pki_types::pem::{self, PemObject as _};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, SubjectPublicKeyInfoDer};

use crate::der::spki_from_certificate;
use crate::error::{Error, Result};
use crate::record::{KeyId, Signature};

/// Signs checkpoints. Implemented by [`NodeSigner`] (a key in memory) and, later, by HSM-backed keys.
pub trait CheckpointSigner {
    /// SHA-256 of the signer's DER SubjectPublicKeyInfo.
    fn key_id(&self) -> KeyId;
    /// An ECDSA P-256 SHA-256 signature of `message` in the fixed 64-byte `r || s` form.
    ///
    /// # Errors
    /// [`Error::Sign`] when the key cannot sign.
    fn sign(&self, message: &[u8]) -> Result<Signature>;
}

/// A P-256 private key held in memory, e.g. the node key read from `pki/node.key`.
pub struct NodeSigner {
    key: EcdsaKeyPair,
    key_id: KeyId,
    spki: Vec<u8>,
    rng: SystemRandom,
}

impl fmt::Debug for NodeSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeSigner({})", self.key_id)
    }
}

impl NodeSigner {
    /// Reads a PKCS#8 DER P-256 private key.
    ///
    /// # Errors
    /// [`Error::Key`] when it is not one.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
            .map_err(|_| Error::Key("the signing key is not a PKCS#8 ECDSA P-256 private key".into()))?;
        let spki = key
            .public_key()
            .as_der()
            .map_err(|_| Error::Key("the signing key's public key cannot be encoded".into()))?
            .as_ref()
            .to_vec();
        Ok(Self { key_id: key_id(&spki), key, spki, rng: SystemRandom::new() })
    }

    /// Reads a PEM `PRIVATE KEY` (PKCS#8) P-256 private key, e.g. `pki/node.key`.
    ///
    /// # Errors
    /// [`Error::Key`] when the text holds no such key.
    pub fn from_pem(text: &[u8]) -> Result<Self> {
        match PrivateKeyDer::from_pem_slice(text) {
            Ok(PrivateKeyDer::Pkcs8(der)) => Self::from_pkcs8_der(der.secret_pkcs8_der()),
            Ok(_) => Err(Error::Key("the signing key must be PKCS#8 (`BEGIN PRIVATE KEY`)".into())),
            Err(_) => Err(Error::Key("no PEM private key found".into())),
        }
    }

    /// The matching verification key.
    ///
    /// # Errors
    /// [`Error::Key`] never in practice (the key was valid when read).
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_spki_der(&self.spki)
    }
}

impl CheckpointSigner for NodeSigner {
    fn key_id(&self) -> KeyId {
        self.key_id
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        let sig = self.key.sign(&self.rng, message).map_err(|_| Error::Sign)?;
        Ok(Signature(sig.as_ref().to_vec()))
    }
}

/// A P-256 public key that checks checkpoint signatures.
pub struct VerifyingKey {
    key: ParsedPublicKey,
    key_id: KeyId,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.key_id)
    }
}

impl VerifyingKey {
    /// Reads a DER SubjectPublicKeyInfo holding a P-256 key.
    ///
    /// # Errors
    /// [`Error::Key`] when it is not one.
    pub fn from_spki_der(spki: &[u8]) -> Result<Self> {
        let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, spki)
            .map_err(|_| Error::Key("the public key is not an ECDSA P-256 key".into()))?;
        Ok(Self { key, key_id: key_id(spki) })
    }

    /// Takes the public key of a DER X.509 certificate (e.g. the node certificate).
    ///
    /// # Errors
    /// [`Error::Key`] when the certificate is malformed or its key is not P-256.
    pub fn from_certificate_der(cert: &[u8]) -> Result<Self> {
        Self::from_spki_der(spki_from_certificate(cert)?)
    }

    /// Reads a PEM `CERTIFICATE` (its public key is used) or `PUBLIC KEY`.
    ///
    /// # Errors
    /// [`Error::Key`] when the text holds neither, or the key is not P-256.
    pub fn from_pem(text: &[u8]) -> Result<Self> {
        match CertificateDer::from_pem_slice(text) {
            Ok(cert) => return Self::from_certificate_der(&cert),
            Err(pem::Error::NoItemsFound) => {}
            Err(_) => return Err(Error::Key("the PEM certificate is malformed".into())),
        }
        match SubjectPublicKeyInfoDer::from_pem_slice(text) {
            Ok(spki) => Self::from_spki_der(&spki),
            Err(_) => Err(Error::Key("expected a PEM `CERTIFICATE` or `PUBLIC KEY`".into())),
        }
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// Whether `sig` is this key's signature of `message`.
    #[must_use]
    pub fn verify(&self, message: &[u8], sig: &Signature) -> bool {
        self.key.verify_sig(message, &sig.0).is_ok()
    }
}

fn key_id(spki: &[u8]) -> KeyId {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, spki).as_ref());
    KeyId(out)
}
