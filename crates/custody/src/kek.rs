//! The key-encryption key (KEK) of the file backend: where it comes from (`REDOUBT_KEK`,
//! `REDOUBT_KEK_PASSPHRASE` through PBKDF2, or a generated `kek` file on a zero-configuration start), how it is
//! checked against a keyring (a check value: AES-GCM of a constant), and sealing and opening under it.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::CustodyError;
use crate::fsx;
use crate::keyring::{self, KekRecord};

/// Environment variable holding the KEK: base64 of 32 random bytes (`openssl rand -base64 32`).
pub const KEK_ENV: &str = "REDOUBT_KEK";
/// Environment variable holding a passphrase the KEK is derived from (PBKDF2-HMAC-SHA256).
pub const KEK_PASSPHRASE_ENV: &str = "REDOUBT_KEK_PASSPHRASE";
/// Name of the generated KEK file in the custody folder (zero-configuration start only). Do not change.
pub const KEK_FILE: &str = "kek";
/// PBKDF2-HMAC-SHA256 iterations for a passphrase KEK (OWASP 2023). Recorded in the keyring, so raising it
/// only affects new keyrings.
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Length of the PBKDF2 salt.
const SALT_LEN: usize = 16;
/// The plaintext of the check value. Do not change: persisted keyrings are checked against it.
const CHECK_PLAINTEXT: &[u8] = b"redoubt-kek-check-v1";
/// The AAD of the check value. Do not change: persisted.
const CHECK_AAD: &[u8] = b"redoubt-kek-check\0";

/// A key-encryption key, before it is checked against a keyring. Never printed.
pub struct Kek {
    secret: Secret,
    origin: Origin,
}

enum Secret {
    Key(Zeroizing<[u8; 32]>),
    Passphrase(Zeroizing<String>),
}

/// Where the KEK came from (for the operator warning).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Given,
    Environment,
    File(PathBuf),
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.secret {
            Secret::Key(_) => "key",
            Secret::Passphrase(_) => "passphrase",
        };
        f.debug_struct("Kek").field("kind", &kind).field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl Kek {
    /// A KEK from 32 raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Kek { secret: Secret::Key(Zeroizing::new(bytes)), origin: Origin::Given }
    }

    /// A KEK derived from a passphrase with PBKDF2-HMAC-SHA256 ([`PBKDF2_ITERATIONS`]) and the keyring's salt.
    #[must_use]
    pub fn from_passphrase(passphrase: Zeroizing<String>) -> Self {
        Kek { secret: Secret::Passphrase(passphrase), origin: Origin::Given }
    }

    /// The KEK from the environment: [`KEK_ENV`], else [`KEK_PASSPHRASE_ENV`], else the `kek` file in `dir`,
    /// which is generated (mode 0600) when the folder has no keyring yet. Keys under a `kek` file get a warning
    /// from [`crate::FileCustody::open`].
    ///
    /// # Errors
    /// [`CustodyError::Kek`] when `REDOUBT_KEK` is malformed, or a keyring exists without any KEK;
    /// [`CustodyError::Storage`] when the `kek` file cannot be read or written.
    pub fn from_env(dir: &Path) -> Result<Self, CustodyError> {
        Self::from_vars(dir, |name| std::env::var(name).ok())
    }

    /// As [`Kek::from_env`], with the variables looked up by `var` (tests, or a configuration layer).
    ///
    /// # Errors
    /// As [`Kek::from_env`].
    pub fn from_vars(dir: &Path, var: impl Fn(&str) -> Option<String>) -> Result<Self, CustodyError> {
        if let Some(text) = var(KEK_ENV).map(Zeroizing::new).filter(|t| !t.trim().is_empty()) {
            let key = decode_key(&text).ok_or_else(|| {
                CustodyError::Kek(format!(
                    "{KEK_ENV} must be the base64 of 32 random bytes (make one with `openssl rand -base64 32`)"
                ))
            })?;
            return Ok(Kek { secret: Secret::Key(key), origin: Origin::Environment });
        }
        if let Some(pass) = var(KEK_PASSPHRASE_ENV).map(Zeroizing::new).filter(|p| !p.is_empty()) {
            return Ok(Kek { secret: Secret::Passphrase(pass), origin: Origin::Environment });
        }
        let file = dir.join(KEK_FILE);
        if file.exists() {
            let text = Zeroizing::new(fsx::read_private(&file)?);
            let text = Zeroizing::new(String::from_utf8_lossy(&text).into_owned());
            let key = decode_key(&text).ok_or_else(|| {
                CustodyError::storage(&file, "is not the base64 of 32 bytes: restore it from a backup")
            })?;
            return Ok(Kek { secret: Secret::Key(key), origin: Origin::File(file) });
        }
        if keyring::path(dir).exists() {
            return Err(CustodyError::Kek(format!(
                "the KAS keys in `{}` are encrypted but no KEK is given: set {KEK_ENV} or {KEK_PASSPHRASE_ENV} to \
                 the one the keys were made with, or restore the `{KEK_FILE}` file",
                dir.display()
            )));
        }
        fsx::ensure_dir(dir)?;
        let mut key = Zeroizing::new([0u8; 32]);
        random(key.as_mut())?;
        let text = Zeroizing::new(format!("{}\n", STANDARD.encode(key.as_ref())));
        fsx::write_atomic(&file, text.as_bytes())?;
        Ok(Kek { secret: Secret::Key(key), origin: Origin::File(file) })
    }

    /// The operator warning for a KEK stored beside the keys.
    pub(crate) fn warning(&self, dir: &Path) -> Option<String> {
        match &self.origin {
            Origin::File(file) => Some(format!(
                "the KAS keys in `{}` are encrypted under a KEK stored beside them in `{}`: anyone who can read \
                 the folder can read the keys; set {KEK_ENV} (base64 of 32 random bytes) or {KEK_PASSPHRASE_ENV} \
                 and keep it elsewhere (a new KEK needs a new key folder for now)",
                dir.display(),
                file.display()
            )),
            Origin::Given | Origin::Environment => None,
        }
    }

    /// Checks the KEK against an existing keyring's record, or makes the record of a new keyring.
    pub(crate) fn unlock(self, record: Option<&KekRecord>) -> Result<(KeyCipher, KekRecord), CustodyError> {
        match record {
            Some(record) => {
                let key = match (&self.secret, record.source.as_str()) {
                    (Secret::Key(k), "key") => k.clone(),
                    (Secret::Passphrase(p), "passphrase") => {
                        let salt = record
                            .salt
                            .as_deref()
                            .and_then(|s| STANDARD.decode(s).ok())
                            .ok_or_else(|| CustodyError::Kek("the keyring's KEK salt is missing or malformed: restore keyring.json from a backup".into()))?;
                        let iterations = record.iterations.unwrap_or(PBKDF2_ITERATIONS);
                        derive(p, &salt, iterations)?
                    }
                    (Secret::Key(_), _) => {
                        return Err(CustodyError::Kek(format!(
                            "this keyring was made with a passphrase KEK: set {KEK_PASSPHRASE_ENV} (not {KEK_ENV})"
                        )));
                    }
                    (Secret::Passphrase(_), _) => {
                        return Err(CustodyError::Kek(format!(
                            "this keyring was made with a raw KEK: set {KEK_ENV} or restore the `{KEK_FILE}` file \
                             (not {KEK_PASSPHRASE_ENV})"
                        )));
                    }
                };
                let cipher = KeyCipher::new(&key)?;
                let check = STANDARD.decode(&record.check).unwrap_or_default();
                cipher.open(CHECK_AAD, &check).ok().filter(|p| p.as_slice() == CHECK_PLAINTEXT).ok_or_else(
                    || {
                        CustodyError::Kek(format!(
                            "the KEK does not open this keyring: {KEK_ENV} or the passphrase is not the one the keys \
                             were made with"
                        ))
                    },
                )?;
                Ok((cipher, record.clone()))
            }
            None => {
                let (key, source, salt, iterations) = match &self.secret {
                    Secret::Key(k) => (k.clone(), "key", None, None),
                    Secret::Passphrase(p) => {
                        let mut salt = [0u8; SALT_LEN];
                        random(&mut salt)?;
                        let key = derive(p, &salt, PBKDF2_ITERATIONS)?;
                        (key, "passphrase", Some(STANDARD.encode(salt)), Some(PBKDF2_ITERATIONS))
                    }
                };
                let cipher = KeyCipher::new(&key)?;
                let check = STANDARD.encode(cipher.seal(CHECK_AAD, CHECK_PLAINTEXT)?);
                Ok((cipher, KekRecord { source: source.into(), salt, iterations, check }))
            }
        }
    }
}

fn decode_key(text: &str) -> Option<Zeroizing<[u8; 32]>> {
    let bytes = Zeroizing::new(STANDARD.decode(text.trim()).ok()?);
    let arr: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(Zeroizing::new(arr))
}

fn derive(pass: &str, salt: &[u8], iterations: u32) -> Result<Zeroizing<[u8; 32]>, CustodyError> {
    let iterations = NonZeroU32::new(iterations)
        .ok_or_else(|| CustodyError::Kek("the keyring's PBKDF2 iteration count is 0".into()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, pass.as_bytes(), key.as_mut());
    Ok(key)
}

/// Fills `out` from the OS random generator.
pub(crate) fn random(out: &mut [u8]) -> Result<(), CustodyError> {
    aws_lc_rs::rand::fill(out)
        .map_err(|_| CustodyError::Invalid("the system random generator failed; retry".into()))
}

/// AES-256-GCM under the KEK: `nonce || ciphertext || tag`, fresh random nonce, caller-given AAD.
pub(crate) struct KeyCipher(LessSafeKey);

impl std::fmt::Debug for KeyCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyCipher(<redacted>)")
    }
}

impl KeyCipher {
    fn new(key: &[u8; 32]) -> Result<Self, CustodyError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| CustodyError::Kek("the KEK is not a valid AES-256 key".into()))?;
        Ok(KeyCipher(LessSafeKey::new(unbound)))
    }

    /// Encrypts `plain` under the KEK.
    pub(crate) fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CustodyError> {
        let mut nonce = [0u8; NONCE_LEN];
        random(&mut nonce)?;
        let mut body = Zeroizing::new(plain.to_vec());
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut *body)
            .map_err(|_| CustodyError::Invalid("AES-GCM sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Decrypts `nonce || ciphertext || tag`; `Err(())` when it does not authenticate.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, ()> {
        let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or(())?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| ())?;
        let mut buf = Zeroizing::new(body.to_vec());
        let n = self.0.open_in_place(nonce, Aad::from(aad), &mut buf).map_err(|_| ())?.len();
        buf.truncate(n);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_key_must_be_32_bytes_and_passphrase_comes_second() {
        let dir = tempfile::tempdir().unwrap();
        let short = STANDARD.encode([1u8; 16]);
        let e = Kek::from_vars(dir.path(), |n| (n == KEK_ENV).then(|| short.clone())).unwrap_err();
        assert!(matches!(e, CustodyError::Kek(_)), "{e}");
        let k = Kek::from_vars(dir.path(), |n| (n == KEK_PASSPHRASE_ENV).then(|| "pass".to_owned())).unwrap();
        assert!(matches!(k.secret, Secret::Passphrase(_)));
        assert!(!format!("{k:?}").contains("pass\""));
        assert!(!dir.path().join(KEK_FILE).exists(), "no kek file when a variable is set");
    }

    #[test]
    fn wrong_key_fails_the_check() {
        let (_, record) = Kek::from_bytes([1; 32]).unlock(None).unwrap();
        assert!(Kek::from_bytes([1; 32]).unlock(Some(&record)).is_ok());
        let e = Kek::from_bytes([2; 32]).unlock(Some(&record)).unwrap_err().to_string();
        assert!(e.contains("does not open this keyring"), "{e}");
        let e = Kek::from_passphrase(Zeroizing::new("x".into())).unlock(Some(&record)).unwrap_err();
        assert!(e.to_string().contains("raw KEK"), "{e}");
    }

    #[test]
    fn sealed_bytes_are_bound_to_their_aad() {
        let (c, _) = Kek::from_bytes([3; 32]).unlock(None).unwrap();
        let s = c.seal(b"a", b"secret").unwrap();
        assert_eq!(c.open(b"a", &s).unwrap().as_slice(), b"secret");
        assert!(c.open(b"b", &s).is_err());
    }
}
