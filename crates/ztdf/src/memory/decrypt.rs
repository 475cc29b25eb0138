//! In-memory decryption: a verified container held in memory (opened with [`TdfReader::open`] over a
//! [`Cursor`], which bounds and checks the ZIP and manifest as for any source) decrypted into an output
//! buffer. Threads take contiguous blocks of segments; each segment is read where it lies in the container,
//! checked against its manifest hash, then its GCM tag, and decrypted straight into its place in the output.
//!
//! [`TdfReader::open`]: crate::TdfReader::open

use std::io::Cursor;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use zeroize::Zeroize;

use super::{blocks, run_scoped};
use crate::error::{Error, IntegrityError, Result};
use crate::layout::Layout;
use crate::reader::Decryptor;
use crate::segment::SegmentCipher;

/// A thread's first failure: the segment it failed on and the error.
type Failure = (usize, Error);

impl<T: AsRef<[u8]> + Sync> Decryptor<Cursor<T>> {
    /// Decrypts the whole payload into `out`, which must be exactly [`Decryptor::plaintext_len`] bytes, with
    /// the configured number of threads (1: all on the calling thread), every thread verifying and
    /// decrypting its own segments in place in `out`.
    ///
    /// # Errors
    /// [`IntegrityError::Segment`] naming the first segment (in payload order) that does not verify;
    /// [`Error::Config`] when `out` has the wrong length. On any error all of `out` is zeroized: no
    /// plaintext is released, not even of the segments that verified.
    pub fn decrypt_into_slice(&self, out: &mut [u8]) -> Result<()> {
        let result = self.decrypt_blocks(out);
        if result.is_err() {
            out.zeroize();
        }
        result
    }

    /// As [`Decryptor::decrypt_into_slice`], into a `Vec` resized to the plaintext length. Its length is
    /// reused as scratch space (a buffer from an earlier call is not zero-filled again); a buffer without
    /// the capacity is replaced by a new zeroed allocation, which the threads fault in, each its own region.
    /// On error `out` is wiped and left empty.
    ///
    /// # Errors
    /// As [`Decryptor::decrypt_into_slice`]; [`Error::Limit`] for a plaintext larger than memory can address.
    pub fn decrypt_into_vec(&self, out: &mut Vec<u8>) -> Result<()> {
        let len = usize::try_from(self.layout.plaintext_len)
            .map_err(|_| Error::Limit("the plaintext does not fit in memory".into()))?;
        if out.capacity() < len {
            // Zeroed by the kernel as each thread first touches its region (see `encrypt_in_memory`).
            *out = vec![0u8; len];
        } else {
            out.resize(len, 0);
        }
        let result = self.decrypt_into_slice(out);
        if result.is_err() {
            // Already zeroized by `decrypt_into_slice`.
            out.clear();
        }
        result
    }

    fn decrypt_blocks(&self, out: &mut [u8]) -> Result<()> {
        let layout = &self.layout;
        if u64::try_from(out.len()).ok() != Some(layout.plaintext_len) {
            return Err(Error::Config(format!(
                "the output buffer is {} bytes; the plaintext is {}",
                out.len(),
                layout.plaintext_len
            )));
        }
        let source = self.source.get_ref().as_ref();
        let mut jobs: Vec<(Range<usize>, &mut [u8])> = Vec::new();
        let mut rest = out;
        for range in blocks(layout.segments.len(), self.threads) {
            let first = layout.segments.get(range.start).ok_or(Error::Crypto("layout"))?;
            let last = layout.segments.get(range.end.saturating_sub(1)).ok_or(Error::Crypto("layout"))?;
            let len = last.plaintext_offset + last.plaintext_len - first.plaintext_offset;
            let len = usize::try_from(len).map_err(|_| Error::Crypto("layout"))?;
            let (region, tail) = rest.split_at_mut_checked(len).ok_or(Error::Crypto("layout"))?;
            jobs.push((range, region));
            rest = tail;
        }
        // The lowest segment index that failed so far: threads skip segments after it (their result no
        // longer matters) but still check those before it, so the error names the first failing segment.
        let first_failure = AtomicUsize::new(usize::MAX);
        let results = run_scoped(jobs, |(range, region)| {
            open_block(&self.cipher, layout, source, range, region, &first_failure)
        })?;
        let failure = results.into_iter().filter_map(Result::err).min_by_key(|(index, _)| *index);
        match failure {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// One thread's work: verifies and decrypts each segment of `range` into its place in `region` (which starts
/// at the first segment's plaintext). Stops at its first failure, or at a segment after one another thread
/// already failed on.
fn open_block(
    cipher: &SegmentCipher,
    layout: &Layout,
    source: &[u8],
    range: Range<usize>,
    region: &mut [u8],
    first_failure: &AtomicUsize,
) -> Result<(), Failure> {
    let count = layout.segments.len();
    let fail = |index: usize, e: Error| {
        first_failure.fetch_min(index, Ordering::Relaxed);
        (index, e)
    };
    let mut rest = region;
    for index in range {
        if index > first_failure.load(Ordering::Relaxed) {
            return Ok(());
        }
        let (Some(info), Some(expected)) = (layout.segments.get(index), layout.hashes.get(index)) else {
            return Err(fail(index, Error::Crypto("layout")));
        };
        let len = usize::try_from(info.plaintext_len).map_err(|_| fail(index, Error::Crypto("layout")))?;
        let Some((dst, tail)) = std::mem::take(&mut rest).split_at_mut_checked(len) else {
            return Err(fail(index, Error::Crypto("layout")));
        };
        rest = tail;
        // A segment that does not lie inside the container is reported like a truncated stream.
        let stored = usize::try_from(info.stored_offset)
            .ok()
            .zip(usize::try_from(info.stored_len).ok())
            .and_then(|(at, n)| source.get(at..at.checked_add(n)?));
        let Some(stored) = stored else {
            return Err(fail(index, IntegrityError::Segment { index, count }.into()));
        };
        cipher.open_into(stored, expected, index, count, dst).map_err(|e| fail(index, e))?;
    }
    Ok(())
}
