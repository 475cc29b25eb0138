//! A small pipeline of worker threads for per-segment work (segments are independent: each has its own IV and
//! tag). The owner submits jobs in order and takes the results back in the same order, so it can keep reading
//! (or copying in) and writing while the workers seal or open the segments in flight: the serial part of a
//! stream (copy-in, I/O) overlaps with the parallel part instead of alternating with it. The owner bounds the
//! jobs in flight ([`Pool::outstanding`]), which bounds memory. Dropping the pool closes the queue and joins
//! the workers (they finish the jobs already queued; results not taken are dropped, so buffers that must be
//! wiped should wipe themselves on drop).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

type Done<D> = (u64, Result<D>);

/// Worker threads applying one function to jobs; results come back in submission order.
pub(crate) struct Pool<J, D> {
    jobs: Option<mpsc::Sender<(u64, J)>>,
    done: mpsc::Receiver<Done<D>>,
    workers: Vec<JoinHandle<()>>,
    /// Completed out of order, waiting for their turn.
    early: BTreeMap<u64, Result<D>>,
    sent: u64,
    next: u64,
}

impl<J, D> std::fmt::Debug for Pool<J, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.workers.len())
            .field("sent", &self.sent)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl<J: Send + 'static, D: Send + 'static> Pool<J, D> {
    /// Starts `threads` workers running `f`. A panic in `f` becomes an error result for that job.
    pub(crate) fn new<F>(threads: usize, f: F) -> Result<Self>
    where
        F: Fn(J) -> Result<D> + Send + Sync + 'static,
    {
        let (jobs, job_rx) = mpsc::channel::<(u64, J)>();
        let (done_tx, done) = mpsc::channel::<Done<D>>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let f = Arc::new(f);
        let mut pool =
            Self { jobs: Some(jobs), done, workers: Vec::new(), early: BTreeMap::new(), sent: 0, next: 0 };
        for _ in 0..threads.max(1) {
            let job_rx = Arc::clone(&job_rx);
            let done_tx = done_tx.clone();
            let f = Arc::clone(&f);
            let handle = std::thread::Builder::new()
                .name("ztdf-segment".into())
                .spawn(move || worker(&job_rx, &done_tx, &*f))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Queues a job (never blocks).
    pub(crate) fn submit(&mut self, job: J) -> Result<()> {
        let jobs = self.jobs.as_ref().ok_or(Error::Crypto("the worker pool is closed"))?;
        jobs.send((self.sent, job)).map_err(|_| Error::Crypto("the worker threads stopped"))?;
        self.sent += 1;
        Ok(())
    }

    /// Jobs submitted whose result has not been taken yet.
    pub(crate) fn outstanding(&self) -> u64 {
        self.sent - self.next
    }

    /// The result of the oldest job not taken yet, waiting for it.
    pub(crate) fn next_in_order(&mut self) -> Result<D> {
        loop {
            if let Some(r) = self.early.remove(&self.next) {
                self.next += 1;
                return r;
            }
            if self.next >= self.sent {
                return Err(Error::Crypto("no job is outstanding"));
            }
            let (seq, r) = self.done.recv().map_err(|_| Error::Crypto("the worker threads stopped"))?;
            self.early.insert(seq, r);
        }
    }

    /// The result of the oldest job not taken yet, if it is already complete.
    pub(crate) fn try_next_in_order(&mut self) -> Option<Result<D>> {
        while let Ok((seq, r)) = self.done.try_recv() {
            self.early.insert(seq, r);
        }
        let r = self.early.remove(&self.next)?;
        self.next += 1;
        Some(r)
    }
}

fn worker<J, D, F>(jobs: &Mutex<mpsc::Receiver<(u64, J)>>, done: &mpsc::Sender<Done<D>>, f: &F)
where
    F: Fn(J) -> Result<D>,
{
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok((seq, job)) = next else { return };
        let r = catch_unwind(AssertUnwindSafe(|| f(job)))
            .unwrap_or_else(|_| Err(Error::Crypto("a worker thread panicked")));
        if done.send((seq, r)).is_err() {
            return;
        }
    }
}

impl<J, D> Drop for Pool<J, D> {
    fn drop(&mut self) {
        // Closing the queue ends every worker once the jobs already queued are done.
        drop(self.jobs.take());
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }
}
