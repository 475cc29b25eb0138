//! The PKCS#11 backend: key pairs are generated inside a token (`CKA_SENSITIVE`, not `CKA_EXTRACTABLE`,
//! `CKA_LABEL` = `CKA_ID` = kid) and private keys never leave it. `wrapped` objects are unwrapped with
//! `C_Decrypt` (RSA-OAEP SHA-1); `ec-wrapped` ones with `C_DeriveKey` (ECDH, null KDF) into a session-only
//! secret holding Z, which is read and destroyed, then HKDF and AES-GCM run in software.
//!
//! The keyring (`DIR/keyring.json`) lists the versions and their state; the token holds the keys. Shredding
//! records the state first, then destroys both objects; a crash in between is finished at the next open.

mod pool;
mod token;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error, RvError};
use cryptoki::object::ObjectClass;
use cryptoki::slot::Slot;
use redoubt_ztdf::manifest::KeyAccessObject;
use redoubt_ztdf::{Curve, KasPublicKey, KeyShare, derive_wrap_key, open_share};
use zeroize::Zeroizing;

pub use pool::SESSION_POOL_SIZE;

use self::pool::SessionPool;
use self::token::{Handles, p11};
use crate::KeyCustody;
use crate::algorithm::{self, Algorithm, KeyInfo, KeyState};
use crate::der;
use crate::error::CustodyError;
use crate::fsx;
use crate::keyring::{self, Keyring};

/// Backend name in `keyring.json`. Do not change: persisted.
const BACKEND: &str = "pkcs11";

/// KAS keys inside a PKCS#11 token. See the module documentation.
pub struct Pkcs11Custody {
    dir: PathBuf,
    token: String,
    pool: SessionPool,
    state: RwLock<State>,
    writer: Mutex<()>,
}

struct State {
    keys: Vec<KeyInfo>,
    objects: HashMap<String, TokenKey>,
}

/// An active version: its objects and public key.
#[derive(Clone)]
struct TokenKey {
    handles: Handles,
    public: KasPublicKey,
    spki: Vec<u8>,
}

impl std::fmt::Debug for Pkcs11Custody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Custody")
            .field("dir", &self.dir)
            .field("token", &self.token)
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

impl Pkcs11Custody {
    /// Loads the PKCS#11 `module`, logs in to the token labelled `token_label` with the user `pin`, and opens
    /// the keyring in `dir` (created when missing). Finishes any shredding a crash interrupted.
    ///
    /// # Errors
    /// [`CustodyError::Pkcs11`] when the module does not load, the token is not found, the PIN is refused, or
    /// an active key is missing from the token; [`CustodyError::Storage`] for the keyring.
    pub fn open(
        module: &Path,
        token_label: &str,
        pin: Zeroizing<String>,
        dir: &Path,
    ) -> Result<Pkcs11Custody, CustodyError> {
        let ctx = Pkcs11::new(module).map_err(|e| CustodyError::Pkcs11 {
            op: "load module",
            message: format!(
                "cannot load `{}` ({e}): install the token's PKCS#11 module or fix the path",
                module.display()
            ),
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(p11("initialize")(e)),
        }
        let slot = find_slot(&ctx, token_label)?;
        let pool = SessionPool::open(&ctx, slot, SESSION_POOL_SIZE, &pin)?;
        drop(pin);
        let keys = match keyring::load(dir, BACKEND)? {
            Some(ring) if ring.token.as_deref() == Some(token_label) => ring.keys,
            Some(ring) => {
                return Err(CustodyError::storage(
                    &keyring::path(dir),
                    format!(
                        "belongs to the token `{}`, not `{token_label}`: give that token's label or another key folder",
                        ring.token.unwrap_or_default()
                    ),
                ));
            }
            None => {
                fsx::ensure_dir(dir)?;
                Vec::new()
            }
        };
        let custody = Pkcs11Custody {
            dir: dir.to_path_buf(),
            token: token_label.to_owned(),
            pool,
            state: RwLock::new(State { keys: Vec::new(), objects: HashMap::new() }),
            writer: Mutex::new(()),
        };
        if !keyring::path(dir).exists() {
            custody.save(&keys)?;
        }
        let mut objects = HashMap::new();
        for info in &keys {
            match info.state {
                KeyState::Active => {
                    let handles =
                        custody.pool.with(|s| token::find_pair(s, &info.kid))?.map_err(p11("find key"))?;
                    let handles = handles.ok_or_else(|| CustodyError::Pkcs11 {
                        op: "find key",
                        message: format!(
                            "the token `{token_label}` has no key `{}` though keyring.json lists it as active: \
                             restore the token from its backup, or open the right token",
                            info.kid
                        ),
                    })?;
                    let (public, spki) =
                        custody.pool.with(|s| token::public_key(s, info.algorithm, handles.public))??;
                    objects.insert(info.kid.clone(), TokenKey { handles, public, spki });
                }
                KeyState::Shredded => {
                    if custody.destroy_all(&info.kid)? > 0 {
                        tracing::warn!(
                            kid = info.kid,
                            "finished shredding a KAS key a crash had left in the token"
                        );
                    }
                }
            }
        }
        *custody.state.write().unwrap_or_else(PoisonError::into_inner) = State { keys, objects };
        Ok(custody)
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn save(&self, keys: &[KeyInfo]) -> Result<(), CustodyError> {
        keyring::save(
            &self.dir,
            &Keyring {
                version: keyring::KEYRING_VERSION,
                backend: BACKEND.into(),
                kek: None,
                token: Some(self.token.clone()),
                keys: keys.to_vec(),
            },
        )
    }

    /// Destroys every object (private, public) with the id `kid`; returns how many there were.
    fn destroy_all(&self, kid: &str) -> Result<usize, CustodyError> {
        self.pool.with(|s| {
            let mut n = 0;
            for class in [ObjectClass::PRIVATE_KEY, ObjectClass::PUBLIC_KEY] {
                for h in token::find(s, class, kid)? {
                    s.destroy_object(h)?;
                    n += 1;
                }
            }
            Ok::<_, Error>(n)
        })?
        .map_err(|e| CustodyError::Pkcs11 {
            op: "destroy key",
            message: format!(
                "the key `{kid}` is recorded as shredded but the token did not destroy it ({e}): the next open retries"
            ),
        })
    }

    fn rotate_locked(&self, alg: Algorithm, now_unix: i64) -> Result<KeyInfo, CustodyError> {
        let mut keys = self.read().keys.clone();
        let (mut n, mut kid) = algorithm::next_kid(&keys, alg);
        // Objects without a keyring entry (an interrupted rotation, or an older keyring restored) keep their kid.
        while !self
            .pool
            .with(|s| token::find(s, ObjectClass::PRIVATE_KEY, &kid))?
            .map_err(p11("find key"))?
            .is_empty()
        {
            n = n.saturating_add(1);
            kid = alg.kid(n);
        }
        let handles = self.pool.with(|s| token::generate(s, alg, &kid))?.map_err(p11("generate key pair"))?;
        let (public, spki) = self.pool.with(|s| token::public_key(s, alg, handles.public))??;
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
        state.objects.insert(kid, TokenKey { handles, public, spki });
        Ok(info)
    }

    fn unwrap_ec(
        &self,
        kid: &str,
        key: &TokenKey,
        curve: Curve,
        kao: &KeyAccessObject,
        wrapped: &[u8],
    ) -> Result<KeyShare, CustodyError> {
        let unwrap_failed = || CustodyError::Unwrap { kid: kid.to_owned() };
        let pem = kao.ephemeral_public_key.as_deref().ok_or_else(|| {
            CustodyError::Invalid("an `ec-wrapped` key access object has no `ephemeralPublicKey`".into())
        })?;
        let blocks = redoubt_ztdf::key::pem_blocks(pem)
            .map_err(|_| CustodyError::Invalid("`ephemeralPublicKey` is not a PEM".into()))?;
        let (_, spki) =
            blocks.first().ok_or_else(|| CustodyError::Invalid("`ephemeralPublicKey` is empty".into()))?;
        if Curve::of_spki(spki) != Some(curve) {
            return Err(unwrap_failed());
        }
        let point = der::spki_point(curve, spki).ok_or_else(unwrap_failed)?;
        let z = self
            .pool
            .with(|s| token::ecdh(s, key.handles.private, curve, point))?
            .map_err(|e| if token::is_device_error(&e) { p11("derive")(e) } else { unwrap_failed() })?;
        let wrap_key = derive_wrap_key(&z).map_err(|_| unwrap_failed())?;
        open_share(&wrap_key, wrapped).map_err(|_| unwrap_failed())
    }
}

impl KeyCustody for Pkcs11Custody {
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
        let key = state.objects.get(kid).ok_or_else(|| CustodyError::UnknownKid(kid.to_owned()))?;
        Ok((key.public.clone(), key.spki.clone()))
    }

    fn unwrap(&self, kid: &str, kao: &KeyAccessObject) -> Result<KeyShare, CustodyError> {
        let (key, alg) = {
            let state = self.read();
            let info = algorithm::active(&state.keys, kid)?;
            algorithm::check_kind(info, &kao.kind)?;
            let key = state.objects.get(kid).ok_or_else(|| CustodyError::UnknownKid(kid.to_owned()))?;
            (key.clone(), info.algorithm)
        };
        let wrapped = STANDARD
            .decode(&kao.wrapped_key)
            .map_err(|_| CustodyError::Invalid("`wrappedKey` is not base64".into()))?;
        match alg.curve() {
            Some(curve) => self.unwrap_ec(kid, &key, curve, kao, &wrapped),
            None => {
                let plain = self
                    .pool
                    .with(|s| token::decrypt_oaep(s, key.handles.private, &wrapped))?
                    .map_err(|e| {
                        // INVARIANT: every failure that can depend on the ciphertext reads the same (no padding oracle).
                        if token::is_device_error(&e) {
                            p11("decrypt")(e)
                        } else {
                            CustodyError::Unwrap { kid: kid.to_owned() }
                        }
                    })?;
                KeyShare::from_slice(&plain).map_err(|_| CustodyError::Unwrap { kid: kid.to_owned() })
            }
        }
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
            state.objects.remove(kid);
        }
        self.destroy_all(kid)?;
        tracing::info!(kid, "KAS key shredded in the token");
        Ok(shredded)
    }

    fn ensure_defaults(&self, now_unix: i64) -> Result<(), CustodyError> {
        let _w = self.writer();
        for alg in Algorithm::ALL {
            if self.current(alg).is_none() {
                let info = self.rotate_locked(alg, now_unix)?;
                tracing::info!(kid = info.kid, algorithm = %alg, "KAS key made in the token");
            }
        }
        Ok(())
    }
}

/// The slot holding the token labelled `label`.
fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot, CustodyError> {
    let slots = ctx.get_slots_with_token().map_err(p11("list slots"))?;
    let mut seen = Vec::new();
    for slot in slots {
        // A token removed meanwhile (or one that fails) is not the one asked for: skip it.
        let Ok(info) = ctx.get_token_info(slot) else { continue };
        let name = info.label().trim_end_matches([' ', '\0']).to_owned();
        if name == label {
            return Ok(slot);
        }
        seen.push(format!("`{name}`"));
    }
    Err(CustodyError::Pkcs11 {
        op: "find token",
        message: format!(
            "no token labelled `{label}` (the module has {}): initialise it (SoftHSM: `softhsm2-util --init-token \
             --free --label {label}`) or give the right label",
            if seen.is_empty() { "none".to_owned() } else { seen.join(", ") }
        ),
    })
}
