//! Buffer-to-buffer encryption and decryption, parallel end to end. Every segment's place in the output is
//! known before any of it is processed (stored segment = IV 12 + plaintext + tag 16), so the output is split
//! into disjoint regions, one contiguous block of segments per thread, and each thread copies and seals (or
//! verifies and decrypts) its own segments straight into its region: no thread copies for another, nothing
//! is handed over through a queue. The calling thread works one block itself; with one thread it is the only
//! one (the single-thread baseline). What needs every segment (the CRC-32 of the payload entry, the segment
//! hashes, root signature, manifest, ZIP directory) is combined on the caller afterwards, by the same code as
//! the streaming writer, so both paths write one format.
//!
//! Fail closed: when anything fails, the whole output buffer is zeroized (and a `Vec` emptied) before the
//! error is returned, so no plaintext — neither a copy waiting to be sealed nor a segment that did not verify
//! — is left to the caller.

mod decrypt;
mod encrypt;

pub use encrypt::encrypt_in_memory;

use std::ops::Range;

use crate::error::{Error, Result};

/// Splits segments `0..count` into at most `threads` contiguous, non-empty blocks of nearly equal size.
fn blocks(count: usize, threads: usize) -> Vec<Range<usize>> {
    let threads = threads.clamp(1, count.max(1));
    let mut out = Vec::with_capacity(threads);
    let mut start = 0;
    for t in 1..=threads {
        // Balanced split: block t ends at t * count / threads (no overflow: count < 2^40 in practice, and
        // checked anyway).
        let end = count.checked_mul(t).map_or(count, |v| v / threads);
        if end > start {
            out.push(start..end);
        }
        start = end;
    }
    out
}

/// Runs `work` on every job, the first on the calling thread and each other one on a scoped thread of its
/// own; returns the results in job order.
///
/// # Errors
/// A thread that cannot be started, or that panicked.
fn run_scoped<J, T, F>(jobs: Vec<J>, work: F) -> Result<Vec<T>>
where
    J: Send,
    T: Send,
    F: Fn(J) -> T + Sync,
{
    let work = &work;
    std::thread::scope(|s| {
        let mut jobs = jobs.into_iter();
        let first = jobs.next();
        let mut handles = Vec::new();
        for job in jobs {
            let h = std::thread::Builder::new().name("ztdf-memory".into()).spawn_scoped(s, move || work(job));
            handles.push(h);
        }
        let mut results = Vec::with_capacity(handles.len() + 1);
        if let Some(job) = first {
            results.push(Ok(work(job)));
        }
        for h in handles {
            // Threads that did start are joined (here or at the end of the scope) even if one did not.
            results.push(match h {
                Ok(h) => h.join().map_err(|_| Error::Crypto("a worker thread panicked")),
                Err(e) => Err(Error::Io(e)),
            });
        }
        results.into_iter().collect()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn blocks_cover_every_segment_once_in_order() {
        for count in 0..40 {
            for threads in 1..6 {
                let b = blocks(count, threads);
                assert!(b.len() <= threads.max(1));
                let flat: Vec<usize> = b.iter().flat_map(Clone::clone).collect();
                assert_eq!(flat, (0..count).collect::<Vec<_>>(), "{count} segments, {threads} threads");
                assert!(b.iter().all(|r| !r.is_empty()));
                if count >= threads {
                    assert_eq!(b.len(), threads);
                    let sizes: Vec<usize> = b.iter().map(ExactSizeIterator::len).collect();
                    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
                }
            }
        }
    }

    #[test]
    fn scoped_jobs_return_in_order() {
        let r = run_scoped((0..5).collect(), |j: u32| j * 10).unwrap();
        assert_eq!(r, vec![0, 10, 20, 30, 40]);
        assert!(run_scoped(Vec::<u32>::new(), |j| j).unwrap().is_empty());
    }
}
