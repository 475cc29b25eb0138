//! The node's KAS keys: the key custody (encrypted key files, or a PKCS#11 token) opened from the
//! configuration, the URLs this node's KAS answers to, and the two uses the object service makes of them —
//! wrapping new objects' keys to the current EC P-256 version, and unwrapping stored objects through the custody.
//!
//! INVARIANT: private keys stay inside the custody (in the PKCS#11 case, inside the token); nothing here holds,
//! logs or returns private key material. A shredded version unwraps nothing, here or through the KAS.

use std::path::Path;
use std::sync::Arc;

use redoubt_custody::{Algorithm, CustodyError, FileCustody, Kek, KeyCustody, KeyState, Pkcs11Custody};
use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::{KasTarget, KeyShare, TdfReader, Unwrapped};
use zeroize::Zeroizing;

use crate::config::{Config, Custody, PKCS11_PIN_ENV};
use crate::fsx;

/// Folder of the node's keys in the data folder. Do not change.
pub const KEYS_DIR: &str = "keys";
/// Folder of the KAS keyring under [`KEYS_DIR`]. Do not change.
pub const KAS_DIR: &str = "kas";
/// The algorithm the object service wraps new objects' keys with.
pub const OBJECT_ALGORITHM: Algorithm = Algorithm::EcP256;

/// The loaded keys.
#[derive(Debug, Clone)]
pub struct NodeKeys {
    custody: Arc<dyn KeyCustody>,
    /// The KAS URL written into every key access object the node makes.
    pub kas_url: String,
    /// Every URL a key access object may name to be this node's (the configured one, and the node's names).
    pub accepted_urls: Vec<String>,
}

/// Why the keys could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("key custody: {0}")]
pub struct KeysError(String);

impl NodeKeys {
    /// Opens the custody the configuration names, makes the first version of each algorithm on a first start,
    /// and adopts a key file left by an older node (`keys/domain.key`). Returns warnings for the operator.
    pub fn open(config: &Config, port: u16, now_unix: i64) -> Result<(NodeKeys, Vec<String>), KeysError> {
        let dir = config.data_dir.join(KEYS_DIR).join(KAS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| KeysError(format!("`{}`: {e}", dir.display())))?;
        let mut warnings = Vec::new();
        let custody: Arc<dyn KeyCustody> = match config.custody {
            Custody::File => {
                let kek = Kek::from_env(&dir).map_err(|e| KeysError(e.to_string()))?;
                let (custody, w) = FileCustody::open(&dir, kek).map_err(|e| KeysError(e.to_string()))?;
                warnings.extend(w);
                adopt_legacy(&config.data_dir, &custody, now_unix)?;
                Arc::new(custody)
            }
            Custody::Pkcs11 => {
                let module = config.pkcs11_module.as_deref().ok_or_else(|| {
                    KeysError("keys.custody is \"pkcs11\" but keys.pkcs11_module is not set".into())
                })?;
                let token = config.pkcs11_token.as_deref().ok_or_else(|| {
                    KeysError("keys.custody is \"pkcs11\" but keys.pkcs11_token is not set".into())
                })?;
                let pin = pkcs11_pin(config.pkcs11_pin_file.as_deref())?;
                Arc::new(Pkcs11Custody::open(module, token, pin, &dir).map_err(|e| KeysError(e.to_string()))?)
            }
        };
        custody.ensure_defaults(now_unix).map_err(|e| KeysError(e.to_string()))?;
        let kas_url = config.kas_url.clone().unwrap_or_else(|| format!("https://{}:{port}/kas", config.name));
        let mut accepted_urls = vec![kas_url.clone()];
        let mut hosts = vec![config.name.clone(), "localhost".to_owned(), "127.0.0.1".to_owned()];
        hosts.extend(config.hostnames.iter().cloned());
        if !config.listen.ip().is_unspecified() {
            hosts.push(config.listen.ip().to_string());
        }
        for h in hosts {
            let url = format!("https://{h}:{port}/kas");
            if !accepted_urls.contains(&url) {
                accepted_urls.push(url);
            }
        }
        Ok((NodeKeys { custody, kas_url, accepted_urls }, warnings))
    }

    /// The custody.
    pub fn custody(&self) -> &Arc<dyn KeyCustody> {
        &self.custody
    }

    /// The KAS target new objects are wrapped to: the current EC P-256 version.
    pub fn target(&self) -> Result<KasTarget, String> {
        let info = self
            .custody
            .current(OBJECT_ALGORITHM)
            .ok_or_else(|| format!("no active {OBJECT_ALGORITHM} key: run `redoubt key rotate`"))?;
        let (key, _) = self.custody.public_key(&info.kid).map_err(|e| e.to_string())?;
        Ok(KasTarget { url: self.kas_url.clone(), key, kid: Some(info.kid), sid: None })
    }

    /// Unwraps one key access object addressed to this node: by its `kid`, or, without one (or with a kid
    /// this custody does not know, as objects of older nodes carry), with each live version of the right kind.
    pub fn unwrap(&self, kao: &KeyAccessObject) -> Result<KeyShare, CustodyError> {
        if let Some(kid) = kao.kid.as_deref()
            && self.custody.list().iter().any(|k| k.kid == kid)
        {
            return self.custody.unwrap(kid, kao);
        }
        let mut last = CustodyError::UnknownKid(kao.kid.clone().unwrap_or_default());
        for info in self.custody.list().iter().rev().filter(|k| k.state == KeyState::Active) {
            let fits = matches!(
                (kao.kind.as_str(), info.algorithm),
                ("wrapped", Algorithm::Rsa2048) | ("ec-wrapped", Algorithm::EcP256 | Algorithm::EcP384)
            );
            if !fits {
                continue;
            }
            match self.custody.unwrap(&info.kid, kao) {
                Ok(share) => return Ok(share),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Recovers a stored object's payload key through the custody (policy bindings verified by the reader).
    /// The key access objects' URLs are not checked: a stored object is this node's whatever URL it was made
    /// under (the node's port or name may have changed since), and only this node's keys can unwrap it anyway.
    pub fn unwrap_payload<R: std::io::Read + std::io::Seek>(
        &self,
        reader: &TdfReader<R>,
    ) -> Result<Unwrapped, redoubt_ztdf::Error> {
        reader.unwrap_payload_key_with("this node's KAS keys do not unwrap", |_, kao| self.unwrap(kao).ok())
    }

    /// True when a key access object's URL names this node's KAS.
    pub fn is_ours(&self, url: &str) -> bool {
        redoubt_kas::check_kas_url(url, &self.accepted_urls).is_ok()
    }

    /// The public key of the current version of `alg`, as an SPKI PEM, with its kid.
    pub fn public_pem(&self, alg: Algorithm) -> Result<(String, String), String> {
        let info = self.custody.current(alg).ok_or_else(|| format!("no active {alg} key"))?;
        let (_, spki) = self.custody.public_key(&info.kid).map_err(|e| e.to_string())?;
        Ok((pem("PUBLIC KEY", &spki), info.kid))
    }
}

/// PEM text of one DER block (64-character lines).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The token PIN: the PIN file when configured, else the environment.
fn pkcs11_pin(file: Option<&Path>) -> Result<Zeroizing<String>, KeysError> {
    if let Some(path) = file {
        if fsx::mode(path).map_err(|e| KeysError(format!("`{}`: {e}", path.display())))? & 0o077 != 0 {
            return Err(KeysError(format!(
                "the PIN file `{}` is readable by others: run `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| KeysError(format!("`{}`: {e}", path.display())))?,
        );
        return Ok(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_owned()));
    }
    match std::env::var(PKCS11_PIN_ENV) {
        Ok(pin) if !pin.is_empty() => Ok(Zeroizing::new(pin)),
        _ => Err(KeysError(format!(
            "keys.custody is \"pkcs11\": give the token's user PIN in {PKCS11_PIN_ENV} or keys.pkcs11_pin_file"
        ))),
    }
}

/// Adopts `keys/domain.key` (the single P-256 key of nodes before the key custody) as a version of the
/// keyring, then removes the plaintext file: objects it wrapped keep opening (their kid `domain` is unknown to
/// the custody, so every live P-256 version is tried).
fn adopt_legacy(data_dir: &Path, custody: &FileCustody, now_unix: i64) -> Result<(), KeysError> {
    let dir = data_dir.join(KEYS_DIR);
    let key_path = dir.join("domain.key");
    if !key_path.exists() {
        return Ok(());
    }
    let fail = |e: &dyn std::fmt::Display| KeysError(format!("adopting `{}`: {e}", key_path.display()));
    let pem = Zeroizing::new(std::fs::read_to_string(&key_path).map_err(|e| fail(&e))?);
    let info = custody.import_pkcs8(Algorithm::EcP256, &pem, now_unix).map_err(|e| fail(&e))?;
    tracing::warn!(kid = %info.kid, "adopted the old domain key into the key custody; removed its plaintext file");
    std::fs::remove_file(&key_path).map_err(|e| fail(&e))?;
    let _ = std::fs::remove_file(dir.join("domain.pub"));
    Ok(())
}
