//! The identities of a node: who may call it and as what subject. Each identity has a client certificate from
//! the node CA and an S3 access key pair, both bound to it; the bootstrap administrator and the node itself come
//! from the PKI manifest. The registry lives in memory and in `DATA_DIR/identities.json` (mode 0600: it holds the
//! S3 secret keys, which SigV4 needs in the clear), rewritten atomically on every change.
//!
//! INVARIANT: callers are looked up on every request (by certificate fingerprint or access key), never cached
//! per connection, so a revocation takes effect on the next request.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use redoubt_policy::{Pdp, Role, Subject};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::fsx;
use crate::pki::{self, NodePki};

/// File of the registry in the data folder. Do not change.
pub const IDENTITIES_FILE: &str = "identities.json";
const FORMAT: &str = "redoubt-identities";
const VERSION: u32 = 1;
/// Largest registry file read at start (about 100 000 identities).
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// One identity as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityRecord {
    /// Unique name.
    pub name: String,
    /// Role, lower-case.
    pub role: String,
    /// Highest classification the identity is cleared for (and every lower one), when cleared at all.
    pub clearance: Option<String>,
    /// ISO 3166 alpha-3 nationality.
    pub nationality: Option<String>,
    /// Communities of interest: category values held, by name.
    pub cois: Vec<String>,
    /// Lower-case hex SHA-256 of the client certificate's DER.
    pub fingerprint: String,
    /// S3 access key id (absent for the bootstrap identities).
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// RFC 3339 creation time.
    pub created: String,
    /// RFC 3339 revocation time; a revoked identity authenticates nobody.
    pub revoked: Option<String>,
    /// The client certificate, PEM (public; for a device, its key verifies the device's posture reports).
    #[serde(default)]
    pub certificate_pem: Option<String>,
}

impl IdentityRecord {
    /// The record without its secret, as listed and shown.
    #[must_use]
    pub fn public(&self) -> IdentityRecord {
        IdentityRecord { secret_access_key: None, ..self.clone() }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    version: u32,
    identities: Vec<IdentityRecord>,
}

/// An authenticated caller: the identity and the subject the policy sees.
#[derive(Debug)]
pub struct Principal {
    /// Identity name.
    pub name: String,
    /// The subject for decisions.
    pub subject: Subject,
    /// Fingerprint of the identity's certificate.
    pub fingerprint: String,
    /// The SubjectPublicKeyInfo (DER) of the identity's certificate: it checks what the identity signs (KAS
    /// request tokens). None for identities from bearer tokens.
    pub spki: Option<Arc<[u8]>>,
    /// For an identity from a DPoP-bound bearer token: the thumbprint (`cnf.jkt`) of the key it is bound to. The
    /// KAS takes request tokens from such a caller only when signed by that key.
    pub dpop_jkt: Option<String>,
}

/// Why an identity could not be created, revoked or loaded.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The name is taken.
    #[error("an identity named `{0}` exists already; choose another name")]
    Exists(String),
    /// No such identity.
    #[error("no identity named `{0}`; `redoubt identity list` shows them")]
    NotFound(String),
    /// The request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The registry file could not be read or written.
    #[error("identity registry `{path}`: {message}")]
    Storage { path: PathBuf, message: String },
}

/// What `create` returns once: the credentials, which the node does not keep in a form it can give again
/// (the private key is never stored; the secret key is stored for SigV4 but never shown again).
#[derive(Debug, Serialize)]
pub struct Issued {
    /// The stored record, without secret.
    pub identity: IdentityRecord,
    /// Client certificate, PEM.
    pub certificate_pem: String,
    /// Client private key, PEM (PKCS#8).
    pub private_key_pem: Zeroizing<String>,
    /// S3 access key id.
    pub access_key_id: String,
    /// S3 secret access key.
    pub secret_access_key: Zeroizing<String>,
}

/// What a new identity asks for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewIdentity {
    /// Unique name: 1–64 of `[A-Za-z0-9._@-]`.
    pub name: String,
    /// Role (default reader).
    #[serde(default)]
    pub role: Option<String>,
    /// Highest classification cleared for.
    #[serde(default)]
    pub clearance: Option<String>,
    /// ISO 3166 alpha-3 nationality.
    #[serde(default)]
    pub nationality: Option<String>,
    /// Communities of interest.
    #[serde(default)]
    pub cois: Vec<String>,
}

#[derive(Debug, Default)]
struct Inner {
    records: BTreeMap<String, IdentityRecord>,
    by_fingerprint: HashMap<String, Arc<Principal>>,
    by_access_key: HashMap<String, (Arc<Principal>, Zeroizing<String>)>,
    /// Public keys (uncompressed P-256 points) of device identities, by name.
    device_keys: HashMap<String, Arc<[u8]>>,
}

/// The identities of the node.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    pdp: Arc<Pdp>,
    inner: RwLock<Inner>,
    /// Serialises changes (each one rewrites the file).
    write: std::sync::Mutex<()>,
}

fn storage(path: &Path, message: impl Into<String>) -> IdentityError {
    IdentityError::Storage { path: path.to_path_buf(), message: message.into() }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

impl Registry {
    /// Loads `DATA_DIR/identities.json` (an absent file is an empty registry) and adds the bootstrap identities
    /// of the PKI manifest.
    pub fn open(data_dir: &Path, pki: &NodePki, pdp: Arc<Pdp>) -> Result<Registry, IdentityError> {
        let path = data_dir.join(IDENTITIES_FILE);
        let mut records = BTreeMap::new();
        for boot in &pki.manifest.identities {
            let role = match boot.role {
                pki::Role::Administrator => Role::Administrator,
                // The node acts for itself only in federation; in the object service it is an operator.
                pki::Role::Node => Role::Operator,
            };
            records.insert(
                boot.name.clone(),
                IdentityRecord {
                    name: boot.name.clone(),
                    role: role.to_string(),
                    clearance: None,
                    nationality: None,
                    cois: Vec::new(),
                    fingerprint: boot.fingerprint.clone(),
                    access_key_id: None,
                    secret_access_key: None,
                    created: pki.manifest.created.clone(),
                    revoked: None,
                    certificate_pem: None,
                },
            );
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.len() > MAX_FILE_BYTES => {
                return Err(storage(&path, format!("is larger than {MAX_FILE_BYTES} bytes")));
            }
            Ok(_) => {
                let bytes = std::fs::read(&path).map_err(|e| storage(&path, e.to_string()))?;
                let file: File = serde_json::from_slice(&bytes).map_err(|e| {
                    storage(&path, format!("is not a valid registry ({e}); restore it from a backup"))
                })?;
                if file.format != FORMAT || file.version != VERSION {
                    return Err(storage(
                        &path,
                        format!("has format {} v{}, expected {FORMAT} v{VERSION}", file.format, file.version),
                    ));
                }
                for record in file.identities {
                    records.insert(record.name.clone(), record);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(storage(&path, e.to_string())),
        }
        let registry =
            Registry { path, pdp, inner: RwLock::new(Inner::default()), write: std::sync::Mutex::new(()) };
        let mut inner = Inner::default();
        for (name, record) in records {
            registry.index(&mut inner, &record)?;
            inner.records.insert(name, record);
        }
        *registry.inner.write().map_err(|_| storage(&registry.path, "lock poisoned"))? = inner;
        Ok(registry)
    }

    fn subject(&self, record: &IdentityRecord) -> Result<Subject, IdentityError> {
        subject_for(&self.pdp, record)
    }

    fn index(&self, inner: &mut Inner, record: &IdentityRecord) -> Result<(), IdentityError> {
        if record.revoked.is_some() {
            return Ok(());
        }
        let principal = Arc::new(Principal {
            name: record.name.clone(),
            subject: self.subject(record)?,
            fingerprint: record.fingerprint.clone(),
            spki: record.certificate_pem.as_deref().and_then(certificate_spki),
            dpop_jkt: None,
        });
        inner.by_fingerprint.insert(record.fingerprint.clone(), principal.clone());
        if principal.subject.role == Role::Device
            && let Some(key) = record.certificate_pem.as_deref().and_then(device_key)
        {
            inner.device_keys.insert(record.name.clone(), key);
        }
        if let (Some(id), Some(secret)) = (&record.access_key_id, &record.secret_access_key) {
            inner.by_access_key.insert(id.clone(), (principal, Zeroizing::new(secret.clone())));
        }
        Ok(())
    }

    /// The caller presenting a certificate with this fingerprint, unless unknown or revoked.
    pub fn by_fingerprint(&self, fingerprint: &str) -> Option<Arc<Principal>> {
        self.inner.read().ok()?.by_fingerprint.get(fingerprint).cloned()
    }

    /// The identity holding this access key and its secret, unless unknown or revoked.
    pub fn by_access_key(&self, access_key_id: &str) -> Option<(Arc<Principal>, Zeroizing<String>)> {
        self.inner.read().ok()?.by_access_key.get(access_key_id).map(|(p, s)| (p.clone(), s.clone()))
    }

    /// The posture-signing key of a device identity, unless unknown, revoked or not a device.
    pub fn device_key(&self, name: &str) -> Option<Arc<[u8]>> {
        self.inner.read().ok()?.device_keys.get(name).cloned()
    }

    /// Every identity, without secrets, by name.
    pub fn list(&self) -> Vec<IdentityRecord> {
        self.inner
            .read()
            .map(|i| i.records.values().map(IdentityRecord::public).collect())
            .unwrap_or_default()
    }

    /// One identity, without secret.
    pub fn show(&self, name: &str) -> Result<IdentityRecord, IdentityError> {
        let inner = self.inner.read().map_err(|_| storage(&self.path, "lock poisoned"))?;
        inner
            .records
            .get(name)
            .map(IdentityRecord::public)
            .ok_or_else(|| IdentityError::NotFound(name.to_owned()))
    }

    /// Creates an identity: checks the request, issues its certificate from the node CA and its access key,
    /// persists the registry, then makes it visible.
    pub fn create(&self, pki: &NodePki, new: NewIdentity) -> Result<Issued, IdentityError> {
        validate_name(&new.name)?;
        let role: Role = new.role.as_deref().unwrap_or("reader").parse().map_err(|_| {
            IdentityError::Invalid(format!(
                "unknown role `{}`: use reader, writer, officer, operator, auditor or device",
                new.role.as_deref().unwrap_or_default()
            ))
        })?;
        if role == Role::Administrator {
            return Err(IdentityError::Invalid(
                "the administrator role is not issued by `identity create`; use the bootstrap administrator"
                    .into(),
            ));
        }
        if let Some(n) = &new.nationality
            && (n.len() != 3 || !n.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(IdentityError::Invalid(format!(
                "nationality `{n}` is not an ISO 3166 alpha-3 code in upper case (e.g. FRA)"
            )));
        }
        let _guard = self.write.lock().map_err(|_| storage(&self.path, "lock poisoned"))?;
        if self
            .inner
            .read()
            .map_err(|_| storage(&self.path, "lock poisoned"))?
            .records
            .contains_key(&new.name)
        {
            return Err(IdentityError::Exists(new.name));
        }
        let access_key_id = random_token("RDT", 17, ACCESS_KEY_ALPHABET)?;
        let secret = Zeroizing::new(random_token("", 40, SECRET_ALPHABET)?);
        let mut record = IdentityRecord {
            name: new.name.clone(),
            role: role.to_string(),
            clearance: new.clearance.clone(),
            nationality: new.nationality.clone(),
            cois: new.cois.clone(),
            fingerprint: String::new(),
            access_key_id: Some(access_key_id.clone()),
            secret_access_key: Some(secret.to_string()),
            created: now_rfc3339(),
            revoked: None,
            certificate_pem: None,
        };
        // Check clearance, nationality and COIs against the SPIF before issuing anything.
        self.subject(&record)?;
        let issued =
            pki::issue_identity(pki, &new.name).map_err(|e| IdentityError::Invalid(e.to_string()))?;
        record.fingerprint = pki::sha256_hex(issued.cert_der.as_ref());
        record.certificate_pem = Some(issued.cert_pem.clone());
        let mut records =
            self.inner.read().map_err(|_| storage(&self.path, "lock poisoned"))?.records.clone();
        records.insert(record.name.clone(), record.clone());
        self.persist(&records)?;
        let mut inner = self.inner.write().map_err(|_| storage(&self.path, "lock poisoned"))?;
        self.index(&mut inner, &record)?;
        inner.records.insert(record.name.clone(), record.clone());
        Ok(Issued {
            identity: record.public(),
            certificate_pem: issued.cert_pem,
            private_key_pem: issued.key_pem,
            access_key_id,
            secret_access_key: secret,
        })
    }

    /// Revokes an identity: from the next request on, neither its certificate nor its access key authenticates.
    pub fn revoke(&self, name: &str) -> Result<IdentityRecord, IdentityError> {
        let _guard = self.write.lock().map_err(|_| storage(&self.path, "lock poisoned"))?;
        let mut records =
            self.inner.read().map_err(|_| storage(&self.path, "lock poisoned"))?.records.clone();
        let record = records.get_mut(name).ok_or_else(|| IdentityError::NotFound(name.to_owned()))?;
        if record.role == Role::Administrator.to_string() {
            return Err(IdentityError::Invalid("the bootstrap administrator cannot be revoked".into()));
        }
        if record.revoked.is_none() {
            record.revoked = Some(now_rfc3339());
        }
        let revoked = record.clone();
        self.persist(&records)?;
        let mut inner = self.inner.write().map_err(|_| storage(&self.path, "lock poisoned"))?;
        inner.by_fingerprint.remove(&revoked.fingerprint);
        inner.device_keys.remove(&revoked.name);
        if let Some(id) = &revoked.access_key_id {
            inner.by_access_key.remove(id);
        }
        inner.records = records;
        Ok(revoked.public())
    }

    fn persist(&self, records: &BTreeMap<String, IdentityRecord>) -> Result<(), IdentityError> {
        let file = File {
            format: FORMAT.to_owned(),
            version: VERSION,
            identities: records.values().filter(|r| r.access_key_id.is_some()).cloned().collect(),
        };
        let bytes =
            Zeroizing::new(serde_json::to_vec(&file).map_err(|e| storage(&self.path, e.to_string()))?);
        fsx::write_atomic(&self.path, &bytes, fsx::SECRET_MODE)
            .map_err(|e| storage(&self.path, e.to_string()))
    }
}

/// The subject the policy sees for an identity (authentication method and posture are the request's).
pub fn subject_for(pdp: &Pdp, record: &IdentityRecord) -> Result<Subject, IdentityError> {
    let role: Role = record.role.parse().map_err(|_| {
        IdentityError::Invalid(format!("identity `{}` has an unknown role `{}`", record.name, record.role))
    })?;
    let clearance = match &record.clearance {
        Some(level) => {
            redoubt_policy::clearance_for(pdp.spif(), level, record.nationality.as_deref(), &record.cois)
                .map_err(|e| IdentityError::Invalid(e.to_string()))?
        }
        None => redoubt_label::Clearance::default(),
    };
    Ok(Subject {
        name: record.name.clone(),
        role,
        nationality: record.nationality.clone(),
        cois: record.cois.clone(),
        clearance,
        posture: None,
        authn: String::new(),
    })
}

/// Reads the identities a node issued from its data folder, without opening the node (for offline tools such as
/// `redoubt policy test`). The bootstrap identities are not in the file.
pub fn read_records(data_dir: &Path) -> Result<Vec<IdentityRecord>, IdentityError> {
    let path = data_dir.join(IDENTITIES_FILE);
    let meta = std::fs::metadata(&path).map_err(|e| storage(&path, e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(storage(&path, format!("is larger than {MAX_FILE_BYTES} bytes")));
    }
    let bytes = Zeroizing::new(std::fs::read(&path).map_err(|e| storage(&path, e.to_string()))?);
    let file: File = serde_json::from_slice(&bytes)
        .map_err(|e| storage(&path, format!("is not a valid registry ({e})")))?;
    Ok(file.identities.into_iter().map(|r| r.public()).collect())
}

/// The subject public key (an uncompressed EC point) of a PEM certificate.
/// The SubjectPublicKeyInfo DER of a PEM certificate.
fn certificate_spki(pem: &str) -> Option<Arc<[u8]>> {
    use rustls_pki_types::pem::PemObject as _;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(Arc::from(cert.public_key().raw))
}

fn device_key(pem: &str) -> Option<Arc<[u8]>> {
    use rustls_pki_types::pem::PemObject as _;
    let der = rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(Arc::from(cert.public_key().subject_public_key.data.as_ref()))
}

fn validate_name(name: &str) -> Result<(), IdentityError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'@' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(IdentityError::Invalid(format!(
            "identity name `{}` is not 1 to 64 of A-Z a-z 0-9 . _ @ -",
            name.escape_default()
        )))
    }
}

const ACCESS_KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_token(prefix: &str, len: usize, alphabet: &[u8]) -> Result<String, IdentityError> {
    let mut raw = Zeroizing::new(vec![0u8; len]);
    aws_lc_rs::rand::fill(&mut raw).map_err(|_| IdentityError::Invalid("no randomness available".into()))?;
    let mut out = String::with_capacity(prefix.len() + len);
    out.push_str(prefix);
    // Both alphabets have a power-of-two size, so the modulo is unbiased.
    for b in raw.iter() {
        let c = alphabet.get(usize::from(*b) % alphabet.len()).copied().unwrap_or(b'A');
        out.push(char::from(c));
    }
    Ok(out)
}
