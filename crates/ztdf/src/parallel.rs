//! Runs independent per-segment work over scoped threads (segments are independent: each has its own IV and
//! tag). Results come back in input order. One thread runs on the caller's stack; no pool outlives the call.

use crate::error::{Error, Result};

/// Applies `f(index, item)` to every item, using up to `threads` threads, and returns the results in order.
pub(crate) fn map_in_place<T, R, F>(items: &mut [T], threads: usize, f: F) -> Vec<Result<R>>
where
    T: Send,
    R: Send,
    F: Fn(usize, &mut T) -> Result<R> + Sync,
{
    let n = items.len();
    if threads <= 1 || n <= 1 {
        return items.iter_mut().enumerate().map(|(i, t)| f(i, t)).collect();
    }
    let per = n.div_ceil(threads.min(n));
    let f = &f;
    std::thread::scope(|scope| {
        let mut chunks = items.chunks_mut(per).enumerate();
        let first = chunks.next();
        let handles: Vec<_> = chunks
            .map(|(c, chunk)| {
                scope.spawn(move || {
                    chunk.iter_mut().enumerate().map(|(i, t)| f(c * per + i, t)).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out: Vec<Result<R>> = match first {
            Some((_, chunk)) => chunk.iter_mut().enumerate().map(|(i, t)| f(i, t)).collect(),
            None => Vec::new(),
        };
        for h in handles {
            match h.join() {
                Ok(mut part) => out.append(&mut part),
                Err(_) => out.push(Err(Error::Crypto("a worker thread panicked"))),
            }
        }
        out
    })
}
