//! The file backend: each private key in `DIR/<kid>.key.enc` (mode 0600), AES-256-GCM under the KEK with the
//! kid and algorithm as AAD, decrypted into memory once at open.
//!
//! Key file format, version 1 (do not change: persisted): `"RDBTKEY\x01"` (8 bytes) || nonce (12) ||
//! ciphertext of the private key DER (PKCS#8, or SEC1 for an imported EC key) || tag (16); AAD =
//! `"redoubt-kas-key\0" || kid || "\0" || algorithm`.
//!
//! Shredding records the state in `keyring.json` first, then overwrites the file with zeros, flushes, unlinks
//! and flushes the folder. On flash storage and copy-on-write file systems the overwrite is not guaranteed to
//! reach the old blocks: what makes shredding final is that the file only ever held KEK-encrypted bytes, so
//! the key is gone once the file is, as long as the KEK has not leaked together with an old copy of the file.
//!
//! Concurrency: unwrapping takes a read lock just long enough to clone an `Arc` of the key; rotate, shred and
//! import are serialised by a separate writer lock and hold the read-write lock only to swap in the result.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use aws_lc_rs::agreement;
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::{KasPrivateKey, KasPublicKey, KeyShare, unwrap_key_access};
use zeroize::Zeroizing;

use crate::KeyCustody;
use crate::algorithm::{self, Algorithm, KeyInfo, KeyState};
use crate::error::CustodyError;
use crate::fsx;
use crate::kek::{Kek, KeyCipher};
use crate::keyring::{self, KekRecord, Keyring};

/// Suffix of a key file: `DIR/<kid>.key.enc`. Do not change: persisted.
pub const KEY_FILE_SUFFIX: &str = ".key.enc";
/// Magic and version of a key file. Do not change: persisted.
const MAGIC: &[u8; 8] = b"RDBTKEY\x01";
/// Backend name in `keyring.json`. Do not change: persisted.
const BACKEND: &str = "file";

/// KAS keys in KEK-encrypted files. See the module documentation.
pub struct FileCustody {
    dir: PathBuf,
    cipher: KeyCipher,
    kek: KekRecord,
    state: RwLock<State>,
    writer: Mutex<()>,
}

struct State {
    keys: Vec<KeyInfo>,
    loaded: HashMap<String, Arc<LoadedKey>>,
}

/// A decrypted private key with its public half.
struct LoadedKey {
    private: KasPrivateKey,
    public: KasPublicKey,
    spki: Vec<u8>,
}

impl std::fmt::Debug for FileCustody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileCustody")
            .field("dir", &self.dir)
            .field("keys", &self.read().keys.len())
            .finish_non_exhaustive()
    }
}

impl FileCustody {
    /// Opens (or creates) the custody in `dir` (the node passes `DATA_DIR/keys/kas`). Checks the KEK against
    /// the keyring before touching anything, decrypts every active key into memory, and finishes any shredding
    /// a crash interrupted. Returns warnings for the operator (a KEK stored beside the keys, stray files).
    ///
    /// # Errors
    /// [`CustodyError::Kek`] for a wrong KEK (nothing is changed); [`CustodyError::Storage`] for a file that is
    /// unreadable, readable by others, corrupt or missing.
    pub fn open(dir: &Path, kek: Kek) -> Result<(FileCustody, Vec<String>), CustodyError> {
        let mut warnings: Vec<String> = kek.warning(dir).into_iter().collect();
        let existing = keyring::load(dir, BACKEND)?;
        let (cipher, record) = kek.unlock(existing.as_ref().and_then(|r| r.kek.as_ref()))?;
        let custody = FileCustody {
            dir: dir.to_path_buf(),
            cipher,
            kek: record,
            state: RwLock::new(State { keys: Vec::new(), loaded: HashMap::new() }),
            writer: Mutex::new(()),
        };
        let keys = match existing {
            Some(ring) if ring.kek.is_some() => ring.keys,
            Some(_) => {
                return Err(CustodyError::storage(
                    &keyring::path(dir),
                    "has no KEK record: restore keyring.json from a backup",
                ));
            }
            None => {
                fsx::ensure_dir(dir)?;
                custody.save(&[])?;
                Vec::new()
            }
        };
        let mut loaded = HashMap::new();
        for info in &keys {
            let path = custody.key_path(&info.kid);
            match info.state {
                KeyState::Active => {
                    loaded.insert(info.kid.clone(), Arc::new(custody.read_key(info)?));
                }
                KeyState::Shredded if path.exists() => {
                    fsx::shred_file(&path).map_err(|e| {
                        CustodyError::storage(&path, format!("cannot finish shredding this key file: {e}"))
                    })?;
                    warnings.push(format!(
                        "finished shredding `{}`: the key was recorded as shredded but its file was still there",
                        info.kid
                    ));
                }
                KeyState::Shredded => {}
            }
        }
        warnings.extend(stray_files(dir, &keys));
        *custody.state.write().unwrap_or_else(PoisonError::into_inner) = State { keys, loaded };
        Ok((custody, warnings))
    }

    /// Adopts an existing private key (PEM: PKCS#8 `PRIVATE KEY`, or SEC1 `EC PRIVATE KEY`) as the next version
    /// of `alg`; it becomes [`KeyCustody::current`]. The node uses it once to adopt its old domain key.
    ///
    /// # Errors
    /// [`CustodyError::Invalid`] when the PEM is not a private key of `alg`; [`CustodyError::Storage`].
    pub fn import_pkcs8(&self, alg: Algorithm, pem: &str, now_unix: i64) -> Result<KeyInfo, CustodyError> {
        let blocks = redoubt_ztdf::key::pem_blocks(pem)
            .map_err(|e| CustodyError::Invalid(format!("the key to import is not a PEM: {e}")))?;
        let mut der = None;
        for (label, bytes) in blocks {
            let bytes = Zeroizing::new(bytes);
            match label.as_str() {
                "PRIVATE KEY" | "EC PRIVATE KEY" if der.is_none() => der = Some(bytes),
                "RSA PRIVATE KEY" => {
                    return Err(CustodyError::Invalid(
                        "PKCS#1 RSA keys are not accepted: convert with `openssl pkcs8 -topk8 -nocrypt`"
                            .into(),
                    ));
                }
                _ => {}
            }
        }
        let der = der.ok_or_else(|| {
            CustodyError::Invalid("the PEM to import has no `PRIVATE KEY` or `EC PRIVATE KEY` block".into())
        })?;
        let _w = self.writer();
        self.add_version(alg, &der, now_unix)
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn key_path(&self, kid: &str) -> PathBuf {
        self.dir.join(format!("{kid}{KEY_FILE_SUFFIX}"))
    }

    fn save(&self, keys: &[KeyInfo]) -> Result<(), CustodyError> {
        keyring::save(
            &self.dir,
            &Keyring {
                version: keyring::KEYRING_VERSION,
                backend: BACKEND.into(),
                kek: Some(self.kek.clone()),
                token: None,
                keys: keys.to_vec(),
            },
        )
    }

    fn read_key(&self, info: &KeyInfo) -> Result<LoadedKey, CustodyError> {
        let path = self.key_path(&info.kid);
        if !path.exists() {
            return Err(CustodyError::storage(
                &path,
                format!(
                    "the file of the active KAS key `{}` is missing: restore it from a backup (objects wrapped to \
                     it cannot be opened without it)",
                    info.kid
                ),
            ));
        }
        let bytes = fsx::read_private(&path)?;
        let corrupt = || {
            CustodyError::storage(
                &path,
                "does not decrypt under the KEK (corrupt, truncated or renamed): restore it from a backup",
            )
        };
        let sealed = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(corrupt)?;
        let der = self.cipher.open(&aad(&info.kid, info.algorithm), sealed).map_err(|()| corrupt())?;
        load_der(info.algorithm, &der).map_err(|m| CustodyError::storage(&path, m))
    }

    /// Seals `der` into the next key file of `alg` and records it. The caller holds the writer lock.
    fn add_version(&self, alg: Algorithm, der: &[u8], now_unix: i64) -> Result<KeyInfo, CustodyError> {
        let loaded = load_der(alg, der).map_err(CustodyError::Invalid)?;
        let mut keys = self.read().keys.clone();
        let (mut n, mut kid) = algorithm::next_kid(&keys, alg);
        // A file without a keyring entry (an interrupted rotation, or an older keyring restored) keeps its kid.
        while self.key_path(&kid).exists() {
            n = n.saturating_add(1);
            kid = alg.kid(n);
        }
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&self.cipher.seal(&aad(&kid, alg), der)?);
        fsx::write_atomic(&self.key_path(&kid), &file)?;
        let info = KeyInfo {
            kid: kid.clone(),
            algorithm: alg,
            state: KeyState::Active,
            created_unix: now_unix,
            shredded_unix: None,
        };
        keys.push(info.clone());
        self.save(&keys)?;
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        state.keys = keys;
        state.loaded.insert(kid, Arc::new(loaded));
        Ok(info)
    }

    fn rotate_locked(&self, alg: Algorithm, now_unix: i64) -> Result<KeyInfo, CustodyError> {
        let der = generate(alg)?;
        self.add_version(alg, &der, now_unix)
    }
}

impl KeyCustody for FileCustody {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn list(&self) -> Vec<KeyInfo> {
        self.read().keys.clone()
    }

    fn current(&self, alg: Algorithm) -> Option<KeyInfo> {
        algorithm::current(&self.read().keys, alg)
    }

    fn public_key(&self, kid: &str) -> Result<(KasPublicKey, Vec<u8>), CustodyError> {
        let state = self.read();
        algorithm::active(&state.keys, kid)?;
        let key = state.loaded.get(kid).ok_or_else(|| CustodyError::UnknownKid(kid.to_owned()))?;
        Ok((key.public.clone(), key.spki.clone()))
    }

    fn unwrap(&self, kid: &str, kao: &KeyAccessObject) -> Result<KeyShare, CustodyError> {
        let key = {
            let state = self.read();
            let info = algorithm::active(&state.keys, kid)?;
            algorithm::check_kind(info, &kao.kind)?;
            Arc::clone(state.loaded.get(kid).ok_or_else(|| CustodyError::UnknownKid(kid.to_owned()))?)
        };
        unwrap_key_access(kao, &key.private).map_err(|e| match e {
            redoubt_ztdf::Error::KeyAccess(_) => CustodyError::Unwrap { kid: kid.to_owned() },
            other => CustodyError::Invalid(format!("the key access object is malformed: {other}")),
        })
    }

    fn rotate(&self, alg: Algorithm, now_unix: i64) -> Result<KeyInfo, CustodyError> {
        let _w = self.writer();
        self.rotate_locked(alg, now_unix)
    }

    fn shred(&self, kid: &str, now_unix: i64) -> Result<KeyInfo, CustodyError> {
        let _w = self.writer();
        let (keys, shredded) = algorithm::mark_shredded(&self.read().keys, kid, now_unix)?;
        // INVARIANT: recorded first, destroyed second: a crash in between is finished at the next open.
        self.save(&keys)?;
        {
            let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
            state.keys = keys;
            state.loaded.remove(kid);
        }
        let path = self.key_path(kid);
        if path.exists() {
            fsx::shred_file(&path).map_err(|e| {
                CustodyError::storage(
                    &path,
                    format!(
                        "the key is recorded as shredded but its file could not be destroyed ({e}): the next start \
                         retries"
                    ),
                )
            })?;
        }
        tracing::info!(kid, "KAS key shredded");
        Ok(shredded)
    }

    fn ensure_defaults(&self, now_unix: i64) -> Result<(), CustodyError> {
        let _w = self.writer();
        for alg in Algorithm::ALL {
            if self.current(alg).is_none() {
                let info = self.rotate_locked(alg, now_unix)?;
                tracing::info!(kid = info.kid, algorithm = %alg, "KAS key made");
            }
        }
        Ok(())
    }
}

/// The AAD of a key file. Do not change: persisted.
fn aad(kid: &str, alg: Algorithm) -> Vec<u8> {
    let mut aad = b"redoubt-kas-key\0".to_vec();
    aad.extend_from_slice(kid.as_bytes());
    aad.push(0);
    aad.extend_from_slice(alg.as_str().as_bytes());
    aad
}

/// A fresh private key of `alg`, PKCS#8 DER.
fn generate(alg: Algorithm) -> Result<Zeroizing<Vec<u8>>, CustodyError> {
    let failed = || CustodyError::Invalid(format!("generating a {alg} key failed; retry"));
    let der: Pkcs8V1Der<'static> = match alg.curve() {
        None => {
            let key = PrivateDecryptingKey::generate(KeySize::Rsa2048).map_err(|_| failed())?;
            AsDer::<Pkcs8V1Der<'static>>::as_der(&key).map_err(|_| failed())?
        }
        Some(curve) => {
            let key = agreement::PrivateKey::generate(curve.agreement()).map_err(|_| failed())?;
            AsDer::<Pkcs8V1Der<'static>>::as_der(&key).map_err(|_| failed())?
        }
    };
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}

/// Parses a private key DER of `alg` and computes its public half.
fn load_der(alg: Algorithm, der: &[u8]) -> Result<LoadedKey, String> {
    let wrong = || format!("the key is not a {alg} private key");
    let (private, spki) = match alg.curve() {
        None => {
            let key = PrivateDecryptingKey::from_pkcs8(der).map_err(|_| wrong())?;
            if key.key_size_bits() != 2048 {
                return Err(format!("the RSA key has {} bits, not 2048", key.key_size_bits()));
            }
            let spki = AsDer::<PublicKeyX509Der<'static>>::as_der(&key.public_key()).map_err(|_| wrong())?;
            let spki = spki.as_ref().to_vec();
            (KasPrivateKey::Rsa(OaepPrivateDecryptingKey::new(key).map_err(|_| wrong())?), spki)
        }
        Some(curve) => {
            let key =
                agreement::PrivateKey::from_private_key_der(curve.agreement(), der).map_err(|_| wrong())?;
            let public = key.compute_public_key().map_err(|_| wrong())?;
            let spki = AsDer::<PublicKeyX509Der<'static>>::as_der(&public).map_err(|_| wrong())?;
            (KasPrivateKey::Ec(key, curve), spki.as_ref().to_vec())
        }
    };
    let public = KasPublicKey::from_spki_der(&spki).map_err(|e| e.to_string())?;
    Ok(LoadedKey { private, public, spki })
}

/// Warnings for key files the keyring does not list.
fn stray_files(dir: &Path, keys: &[KeyInfo]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(KEY_FILE_SUFFIX)).map(str::to_owned))
        .filter(|kid| !keys.iter().any(|k| &k.kid == kid))
        .map(|kid| {
            format!(
                "`{kid}{KEY_FILE_SUFFIX}` is not in keyring.json (an interrupted rotation, or a keyring restored \
                 from an older backup): it is kept, not used, and its kid is skipped"
            )
        })
        .collect()
}
