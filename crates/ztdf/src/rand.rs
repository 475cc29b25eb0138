//! The random source every random byte of this crate comes from: data keys, key shares, IVs, ephemeral EC keys,
//! policy UUIDs. Callers pass one in; the CLI passes aws-lc-rs's `SystemRandom`, tests a deterministic one.

use crate::error::{Error, Result};

/// A cryptographically secure random source. `fill` must fill all of `dest` or fail.
pub trait RandomSource: Sync {
    /// Fills `dest` with random bytes.
    ///
    /// # Errors
    /// [`Error::Random`] when the source cannot produce bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<()>;
}

impl RandomSource for aws_lc_rs::rand::SystemRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        aws_lc_rs::rand::SecureRandom::fill(self, dest).map_err(|_| Error::Random)
    }
}

impl<T: RandomSource + ?Sized> RandomSource for &T {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        (**self).fill(dest)
    }
}

/// Returns `N` random bytes.
pub(crate) fn array<const N: usize>(rng: &dyn RandomSource) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// A random version-4 UUID in its usual text form.
pub(crate) fn uuid_v4(rng: &dyn RandomSource) -> Result<String> {
    let mut b: [u8; 16] = array(rng)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default().to_owned();
    Ok(format!("{}-{}-{}-{}-{}", part(0..8), part(8..12), part(12..16), part(16..20), part(20..32)))
}

/// The operating system's generator through aws-lc-rs. Only binaries construct it; library code takes a
/// [`RandomSource`].
#[derive(Debug, Default)]
pub struct SystemRandomSource(aws_lc_rs::rand::SystemRandom);

impl SystemRandomSource {
    /// The system generator.
    #[must_use]
    pub fn new() -> Self {
        Self(aws_lc_rs::rand::SystemRandom::new())
    }
}

impl RandomSource for SystemRandomSource {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        self.0.fill(dest)
    }
}
