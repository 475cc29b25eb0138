//! The domain key: the key every object's data key is wrapped to (ZTDF `ec-wrapped`, P-256 ECDH + HKDF +
//! AES-GCM). Created on the first start as `DATA_DIR/keys/domain.key` (PKCS#8 PEM, mode 0600) with its public
//! half in `domain.pub`; the key custody issue moves it behind a KAS and an HSM.
//!
//! INVARIANT: the private key never leaves this process and is never logged; files are written atomically.

use std::path::{Path, PathBuf};

use redoubt_ztdf::{KasPrivateKey, KasPublicKey, KasTarget};
use zeroize::Zeroizing;

use crate::fsx;

/// Folder of the node's data keys in the data folder. Do not change.
pub const KEYS_DIR: &str = "keys";

/// The loaded domain key.
pub struct DomainKey {
    public: KasPublicKey,
    private: KasPrivateKey,
    /// The KAS URL written into every key access object.
    pub kas_url: String,
    /// The public key, PEM (served to clients that encrypt for this node).
    pub public_pem: String,
}

impl std::fmt::Debug for DomainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DomainKey").field("kas_url", &self.kas_url).finish_non_exhaustive()
    }
}

/// Why the domain key could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[error("domain key `{path}`: {message}")]
pub struct DomainKeyError {
    path: PathBuf,
    message: String,
}

impl DomainKey {
    /// Loads `DATA_DIR/keys/domain.key`, creating it on first start.
    pub fn open_or_create(data_dir: &Path, kas_url: String) -> Result<DomainKey, DomainKeyError> {
        let dir = data_dir.join(KEYS_DIR);
        let key_path = dir.join("domain.key");
        let pub_path = dir.join("domain.pub");
        let fail = |path: &Path, message: String| DomainKeyError { path: path.to_path_buf(), message };
        if !key_path.exists() {
            std::fs::create_dir_all(&dir).map_err(|e| fail(&dir, e.to_string()))?;
            let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
                .map_err(|e| fail(&key_path, e.to_string()))?;
            let pem = Zeroizing::new(pair.serialize_pem());
            // Public half first: a crash between the two leaves no private key, and the next start makes both.
            fsx::write_atomic(&pub_path, pair.public_key_pem().as_bytes(), fsx::PUBLIC_MODE)
                .map_err(|e| fail(&pub_path, e.to_string()))?;
            fsx::write_atomic(&key_path, pem.as_bytes(), fsx::SECRET_MODE)
                .map_err(|e| fail(&key_path, e.to_string()))?;
        }
        if fsx::mode(&key_path).map_err(|e| fail(&key_path, e.to_string()))? & 0o077 != 0 {
            return Err(fail(
                &key_path,
                format!("is readable by others: run `chmod 600 {}`", key_path.display()),
            ));
        }
        let pem =
            Zeroizing::new(std::fs::read_to_string(&key_path).map_err(|e| fail(&key_path, e.to_string()))?);
        let private = KasPrivateKey::from_pem(&pem).map_err(|e| fail(&key_path, e.to_string()))?;
        let public_pem = std::fs::read_to_string(&pub_path).map_err(|e| fail(&pub_path, e.to_string()))?;
        let public = KasPublicKey::from_pem(&public_pem).map_err(|e| fail(&pub_path, e.to_string()))?;
        Ok(DomainKey { public, private, kas_url, public_pem })
    }

    /// The KAS target new objects are wrapped to.
    pub fn target(&self) -> KasTarget {
        KasTarget {
            url: self.kas_url.clone(),
            key: self.public.clone(),
            kid: Some("domain".into()),
            sid: None,
        }
    }

    /// The private key, for unwrapping.
    pub fn private(&self) -> &KasPrivateKey {
        &self.private
    }
}
