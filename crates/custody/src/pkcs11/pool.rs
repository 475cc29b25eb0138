//! A small pool of logged-in read-write sessions on one token. A PKCS#11 session runs one operation at a
//! time, so each sits behind its own mutex; callers take the first free one (starting at a rotating index) and
//! wait on one only when all are busy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, TryLockError};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

use crate::error::CustodyError;

/// Sessions opened on the token: enough for a few concurrent unwraps without one serialising them all.
pub const SESSION_POOL_SIZE: usize = 4;

/// Logged-in sessions on one token.
pub(super) struct SessionPool {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPool").field("sessions", &self.sessions.len()).finish_non_exhaustive()
    }
}

impl SessionPool {
    /// Opens `size` read-write sessions and logs the user in (the login holds for every session of the
    /// process on that token).
    pub(super) fn open(
        ctx: &Pkcs11,
        slot: Slot,
        size: usize,
        pin: &Zeroizing<String>,
    ) -> Result<Self, CustodyError> {
        let mut sessions = Vec::with_capacity(size.max(1));
        for _ in 0..size.max(1) {
            let s = ctx.open_rw_session(slot).map_err(|e| CustodyError::Pkcs11 {
                op: "open session",
                message: format!("{e}; check the token is present and not at its session limit"),
            })?;
            sessions.push(Mutex::new(s));
        }
        let pin = AuthPin::from(pin.as_str());
        if let Some(first) = sessions.first() {
            let first = first.lock().unwrap_or_else(PoisonError::into_inner);
            match first.login(UserType::User, Some(&pin)) {
                Ok(()) | Err(Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
                Err(Error::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _)) => {
                    return Err(CustodyError::Pkcs11 {
                        op: "login",
                        message:
                            "the token refused the user PIN: give the PIN the token was initialised with"
                                .into(),
                    });
                }
                Err(Error::Pkcs11(RvError::PinLocked, _)) => {
                    return Err(CustodyError::Pkcs11 {
                        op: "login",
                        message: "the user PIN is locked: unlock it with the security officer PIN".into(),
                    });
                }
                Err(e) => return Err(CustodyError::Pkcs11 { op: "login", message: e.to_string() }),
            }
        }
        Ok(SessionPool { sessions, next: AtomicUsize::new(0) })
    }

    /// Runs `f` on a free session.
    pub(super) fn with<T>(&self, f: impl FnOnce(&Session) -> T) -> Result<T, CustodyError> {
        let n = self.sessions.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n.max(1);
        for i in 0..n {
            let Some(slot) = self.sessions.get((start + i) % n) else { continue };
            match slot.try_lock() {
                Ok(session) => return Ok(f(&session)),
                Err(TryLockError::Poisoned(p)) => return Ok(f(&p.into_inner())),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let slot = self.sessions.get(start).ok_or_else(|| CustodyError::Pkcs11 {
            op: "session",
            message: "no session is open on the token: reopen the custody".into(),
        })?;
        let session = slot.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(f(&session))
    }
}
