//! The group committer: one thread owns every write transaction. Callers enqueue an operation with a reply slot
//! and block; the thread drains what is pending (up to a batch limit), makes the batch's new blobs durable (their
//! data, then one fsync per distinct shard directory, run in parallel), applies every operation in order in ONE redb transaction,
//! commits once with `Durability::Immediate`, replies, and only then deletes the blobs the batch stopped
//! referencing.
//!
//! INVARIANT: a caller gets `Ok` only after the commit that made its change is durable, and a record never
//! references a blob whose data or directory entry might not be durable.
//! INVARIANT: an operation that fails does so before writing anything (it reads and checks first), so the others
//! of its batch still commit; one that fails after writing, or on a storage error, "poisons" the transaction,
//! which is then abandoned and rerun without it.

use std::collections::{BTreeSet, HashSet};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use redb::{Database, Durability, Table, WriteTransaction};

use crate::blob::{Blobs, sync_dir};
use crate::tables::{BUCKET_UPLOADS, BUCKETS, OBJECTS, PARTS, UPLOADS};
use crate::{BlobId, StoreError};

/// Operations applied by one transaction at most, unless the store is opened with another limit.
pub(crate) const DEFAULT_MAX_BATCH: usize = 256;
/// Threads that fsync a batch's shard directories together.
const SYNC_THREADS: usize = 64;

/// What the committer thread and the store share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) db: Database,
    pub(crate) blobs: Blobs,
    pub(crate) stats: Stats,
}

/// Counters of the committer, for metrics and the benchmark.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) transactions: AtomicU64,
    pub(crate) operations: AtomicU64,
}

/// The tables of the batch's write transaction as one operation sees them. Taking a table mutably marks the
/// operation as having written (see the module invariant).
pub(crate) struct Tx<'t> {
    buckets: Table<'t, &'static str, &'static [u8]>,
    objects: Table<'t, &'static [u8], &'static [u8]>,
    uploads: Table<'t, &'static str, &'static [u8]>,
    parts: Table<'t, &'static [u8], &'static [u8]>,
    bucket_uploads: Table<'t, &'static [u8], ()>,
    wrote: bool,
    deletes: Vec<BlobId>,
}

impl<'t> Tx<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Tx<'t>, StoreError> {
        Ok(Tx {
            buckets: txn.open_table(BUCKETS)?,
            objects: txn.open_table(OBJECTS)?,
            uploads: txn.open_table(UPLOADS)?,
            parts: txn.open_table(PARTS)?,
            bucket_uploads: txn.open_table(BUCKET_UPLOADS)?,
            wrote: false,
            deletes: Vec::new(),
        })
    }

    pub(crate) fn buckets(&self) -> &Table<'t, &'static str, &'static [u8]> {
        &self.buckets
    }
    pub(crate) fn buckets_mut(&mut self) -> &mut Table<'t, &'static str, &'static [u8]> {
        self.wrote = true;
        &mut self.buckets
    }
    pub(crate) fn objects(&self) -> &Table<'t, &'static [u8], &'static [u8]> {
        &self.objects
    }
    pub(crate) fn objects_mut(&mut self) -> &mut Table<'t, &'static [u8], &'static [u8]> {
        self.wrote = true;
        &mut self.objects
    }
    pub(crate) fn uploads(&self) -> &Table<'t, &'static str, &'static [u8]> {
        &self.uploads
    }
    pub(crate) fn uploads_mut(&mut self) -> &mut Table<'t, &'static str, &'static [u8]> {
        self.wrote = true;
        &mut self.uploads
    }
    pub(crate) fn parts(&self) -> &Table<'t, &'static [u8], &'static [u8]> {
        &self.parts
    }
    pub(crate) fn parts_mut(&mut self) -> &mut Table<'t, &'static [u8], &'static [u8]> {
        self.wrote = true;
        &mut self.parts
    }
    pub(crate) fn bucket_uploads(&self) -> &Table<'t, &'static [u8], ()> {
        &self.bucket_uploads
    }
    pub(crate) fn bucket_uploads_mut(&mut self) -> &mut Table<'t, &'static [u8], ()> {
        self.wrote = true;
        &mut self.bucket_uploads
    }

    /// Deletes `blob` once the batch is durable, if the operation succeeds. Call it only for a blob no record
    /// references once the operation is applied.
    pub(crate) fn delete_after_commit(&mut self, blob: BlobId) {
        self.deletes.push(blob);
    }
}

/// How one operation went inside the transaction.
pub(crate) enum Applied {
    /// Applied; commit it.
    Done,
    /// Refused before writing anything (a precondition, a missing bucket…): the others still commit.
    Refused,
    /// Failed after writing or on a storage error: abandon the transaction and rerun the batch without it.
    Poisoned,
}

/// One queued operation and its caller's reply slot.
pub(crate) trait Job: Send {
    /// Blobs the operation makes records reference.
    fn new_blobs(&self) -> &[BlobId];
    fn apply(&mut self, tx: &mut Tx<'_>) -> Applied;
    fn succeeded(&self) -> bool;
    /// Sends the result of the last `apply`.
    fn reply(self: Box<Self>);
    fn fail(self: Box<Self>, error: StoreError);
}

struct Pending<T, F> {
    op: F,
    new_blobs: Vec<BlobId>,
    result: Option<Result<T, StoreError>>,
    reply: SyncSender<Result<T, StoreError>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send,
    F: Fn(&mut Tx<'_>) -> Result<T, StoreError> + Send,
{
    fn new_blobs(&self) -> &[BlobId] {
        &self.new_blobs
    }

    fn apply(&mut self, tx: &mut Tx<'_>) -> Applied {
        tx.wrote = false;
        tx.deletes.clear();
        let result = (self.op)(tx);
        let applied = match &result {
            Ok(_) => Applied::Done,
            Err(e) if tx.wrote || e.is_storage() => Applied::Poisoned,
            Err(_) => Applied::Refused,
        };
        self.result = Some(result);
        applied
    }

    fn succeeded(&self) -> bool {
        matches!(self.result, Some(Ok(_)))
    }

    fn reply(self: Box<Self>) {
        let result =
            self.result.unwrap_or_else(|| Err(StoreError::Db("the operation was never applied".into())));
        // The caller may have gone away (its thread died): nothing to do then.
        let _ = self.reply.send(result);
    }

    fn fail(self: Box<Self>, error: StoreError) {
        let _ = self.reply.send(Err(error));
    }
}

/// A job for `op` and where its result will arrive.
pub(crate) fn job<T, F>(new_blobs: Vec<BlobId>, op: F) -> (Box<dyn Job>, Receiver<Result<T, StoreError>>)
where
    T: Send + 'static,
    F: Fn(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, answer) = mpsc::sync_channel(1);
    (Box::new(Pending { op, new_blobs, result: None, reply }), answer)
}

/// The handle on the committer thread. Dropping it lets the thread finish the queue, then joins it.
#[derive(Debug)]
pub(crate) struct Committer {
    queue: Option<Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl Committer {
    pub(crate) fn start(shared: Arc<Shared>, max_batch: usize) -> Result<Committer, StoreError> {
        let (queue, jobs) = mpsc::channel();
        let max_batch = max_batch.max(1);
        let thread = std::thread::Builder::new()
            .name("redoubt-store-commit".into())
            .spawn(move || run(&shared, &jobs, max_batch))
            .map_err(StoreError::io("cannot start the store's commit thread"))?;
        Ok(Committer { queue: Some(queue), thread: Some(thread) })
    }

    /// Runs `op` in the next batch and waits until it is durable (or refused).
    pub(crate) fn submit<T, F>(&self, new_blobs: Vec<BlobId>, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Tx<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let (job, answer) = job(new_blobs, op);
        let queue = self.queue.as_ref().ok_or_else(stopped)?;
        queue.send(job).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn stopped() -> StoreError {
    StoreError::Db("the store's commit thread has stopped: reopen the store".into())
}

fn run(shared: &Shared, jobs: &Receiver<Box<dyn Job>>, max_batch: usize) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(shared, batch);
    }
}

/// Commits one batch and answers every job in it.
pub(crate) fn commit_batch(shared: &Shared, batch: Vec<Box<dyn Job>>) {
    let mut jobs = make_blobs_durable(&shared.blobs, batch);
    while !jobs.is_empty() {
        match apply_and_commit(&shared.db, &mut jobs) {
            Ok(Ok(deletes)) => {
                shared.stats.transactions.fetch_add(1, Ordering::Relaxed);
                shared.stats.operations.fetch_add(jobs.len() as u64, Ordering::Relaxed);
                return after_commit(&shared.blobs, jobs, deletes);
            }
            Ok(Err(poisoned)) if poisoned < jobs.len() => jobs.remove(poisoned).reply(),
            Ok(Err(_)) => {
                return fail_all(
                    jobs,
                    &StoreError::Db("the transaction was abandoned by an unknown operation".into()),
                );
            }
            Err(e) => return fail_all(jobs, &e),
        }
    }
}

fn fail_all(jobs: Vec<Box<dyn Job>>, error: &StoreError) {
    // A failed commit leaves the blobs of the batch unreferenced, or referenced if the commit did reach the disk
    // after all: they are left alone, and the next open deletes the ones that are orphans.
    let text = error.to_string();
    for job in jobs {
        job.fail(StoreError::Db(text.clone()));
    }
}

/// Makes the data and directory entries of every new blob of the batch durable; fails the jobs whose blobs cannot
/// be. A blob a writer of this store finished is already fsynced; any other gets its own fsync.
fn make_blobs_durable(blobs: &Blobs, batch: Vec<Box<dyn Job>>) -> Vec<Box<dyn Job>> {
    let mut ready = Vec::with_capacity(batch.len());
    let mut shards = BTreeSet::new();
    for job in batch {
        let checked = job.new_blobs().iter().try_for_each(|id| {
            let shard = blobs.shard_dir(id)?;
            if !blobs.fresh.contains(id) {
                blobs.sync_blob(id)?;
            }
            shards.insert(shard);
            Ok::<_, StoreError>(())
        });
        match checked {
            Ok(()) => ready.push(job),
            Err(e) => job.fail(e),
        }
    }
    let failed = sync_dirs(shards);
    if failed.is_empty() {
        return ready;
    }
    let mut kept = Vec::with_capacity(ready.len());
    for job in ready {
        let shard_error = job.new_blobs().iter().find_map(|id| {
            let shard = blobs.shard_dir(id).ok()?;
            failed.iter().find(|(s, _)| *s == shard).map(|(_, e)| e.clone())
        });
        match shard_error {
            Some(context) => {
                job.fail(StoreError::Io { context, source: io::Error::other("directory fsync failed") })
            }
            None => kept.push(job),
        }
    }
    kept
}

/// Fsyncs directories, in parallel: a file system commits concurrent fsyncs together (one journal commit for all),
/// while serial ones each wait for their own; measured, serial shard fsyncs were most of a large batch's time.
/// Returns the directories that failed, with the error.
fn sync_dirs(dirs: BTreeSet<PathBuf>) -> Vec<(PathBuf, String)> {
    let dirs: Vec<PathBuf> = dirs.into_iter().collect();
    let sync = |dirs: &[PathBuf]| -> Vec<(PathBuf, String)> {
        dirs.iter().filter_map(|dir| sync_dir(dir).err().map(|e| (dir.clone(), e.to_string()))).collect()
    };
    if dirs.len() <= 1 {
        return sync(&dirs);
    }
    let per_thread = dirs.len().div_ceil(SYNC_THREADS);
    std::thread::scope(|scope| {
        let workers: Vec<_> = dirs
            .chunks(per_thread)
            .map(|chunk| (chunk, std::thread::Builder::new().spawn_scoped(scope, move || sync(chunk))))
            .collect();
        workers
            .into_iter()
            .flat_map(|(chunk, worker)| match worker {
                Ok(worker) => worker.join().unwrap_or_else(|_| {
                    chunk.iter().map(|dir| (dir.clone(), "the fsync thread failed".to_owned())).collect()
                }),
                // No thread to spare: do it here.
                Err(_) => sync(chunk),
            })
            .collect()
    })
}

/// Applies the jobs in one transaction. `Ok(Ok(deletes))`: committed, durable; `Ok(Err(i))`: job `i` poisoned the
/// transaction, which was abandoned; `Err`: the transaction could not be opened or committed.
fn apply_and_commit(
    db: &Database,
    jobs: &mut [Box<dyn Job>],
) -> Result<Result<Vec<BlobId>, usize>, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    let mut deletes = Vec::new();
    let mut poisoned = None;
    {
        let mut tx = Tx::open(&txn)?;
        for (i, job) in jobs.iter_mut().enumerate() {
            match job.apply(&mut tx) {
                Applied::Done => deletes.append(&mut tx.deletes),
                Applied::Refused => {}
                Applied::Poisoned => {
                    poisoned = Some(i);
                    break;
                }
            }
        }
    }
    if let Some(i) = poisoned {
        let _ = txn.abort();
        return Ok(Err(i));
    }
    txn.commit()?;
    Ok(Ok(deletes))
}

/// After a durable commit: forget the blobs now referenced, reply, then delete what the batch stopped referencing
/// and the new blobs of refused operations (never referenced: still fresh).
fn after_commit(blobs: &Blobs, jobs: Vec<Box<dyn Job>>, deletes: Vec<BlobId>) {
    let mut referenced = HashSet::new();
    let mut refused = Vec::new();
    for job in &jobs {
        if job.succeeded() {
            for id in job.new_blobs() {
                blobs.fresh.remove(id);
                referenced.insert(id.clone());
            }
        } else {
            refused.extend(job.new_blobs().iter().cloned());
        }
    }
    for job in jobs {
        job.reply();
    }
    // INVARIANT: the operations only schedule a blob whose record they removed or replaced with one naming another
    // blob, so each of these is referenced by nothing once the batch is durable (even one a batch both added and
    // replaced).
    for id in deletes {
        blobs.remove(&id);
    }
    for id in refused {
        if !referenced.contains(&id) && blobs.fresh.remove(&id) {
            blobs.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use redb::ReadableDatabase;

    use crate::{BucketMeta, ObjectMeta, Precondition, open, ops};

    fn object(blob: &str, etag: &str) -> ObjectMeta {
        ObjectMeta {
            blob: blob.into(),
            size: 1,
            stored_size: 1,
            etag: etag.into(),
            last_modified_unix_ms: 0,
            content_type: None,
            user_metadata: BTreeMap::new(),
            label: "{}".into(),
            label_marking: String::new(),
            client_ztdf: false,
            parts: 0,
            owner: "o".into(),
        }
    }

    fn finished_blob(shared: &Shared) -> String {
        shared.blobs.writer().unwrap().finish().unwrap()
    }

    /// Several operations in ONE batch: each sees the earlier ones, a refused one does not stop the others,
    /// and the refused one's blob is deleted while the winner's survives.
    #[test]
    fn one_batch_evaluates_preconditions_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = open::open_db(&dir.path().join("meta.redb")).unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let shared = Shared { db, blobs: Blobs::new(dir.path().join("blobs")), stats: Stats::default() };
        let meta = BucketMeta { created_unix_ms: 0, default_label: None, owner: "o".into() };
        let (mk, mk_answer) = job(Vec::new(), move |tx| ops::create_bucket(tx, "b", &meta));
        let (a, b) = (finished_blob(&shared), finished_blob(&shared));
        let put = |blob: &str, etag: &str, pre: Precondition| {
            let meta = object(blob, etag);
            job(vec![blob.to_owned()], move |tx| ops::put_object(tx, "b", "k", &meta, &pre))
        };
        let (first, first_answer) = put(&a, "1", Precondition::IfNoneMatchAny);
        let (second, second_answer) = put(&b, "2", Precondition::IfNoneMatchAny);
        let c = finished_blob(&shared);
        let (third, third_answer) = put(&c, "3", Precondition::IfMatch("1".into()));
        commit_batch(&shared, vec![mk, first, second, third]);

        mk_answer.recv().unwrap().unwrap();
        assert_eq!(first_answer.recv().unwrap().unwrap(), None);
        assert!(matches!(second_answer.recv().unwrap(), Err(StoreError::PreconditionFailed)));
        // The third sees the first's write in the same transaction, and replaces it.
        assert_eq!(third_answer.recv().unwrap().unwrap().map(|m| m.etag), Some("1".into()));
        assert!(!shared.blobs.path(&a).unwrap().exists(), "replaced blob deleted after the commit");
        assert!(!shared.blobs.path(&b).unwrap().exists(), "refused blob deleted");
        assert!(shared.blobs.path(&c).unwrap().exists());
        assert!(!shared.blobs.fresh.contains(&c), "a committed blob is no longer fresh");
    }

    /// An operation that writes and then fails poisons the transaction: it is rerun without it, and the others
    /// commit.
    #[test]
    fn a_poisoned_operation_is_dropped_and_the_rest_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = open::open_db(&dir.path().join("meta.redb")).unwrap();
        std::fs::create_dir(dir.path().join("blobs")).unwrap();
        let shared = Shared { db, blobs: Blobs::new(dir.path().join("blobs")), stats: Stats::default() };
        let meta = BucketMeta { created_unix_ms: 0, default_label: None, owner: "o".into() };
        let m2 = meta.clone();
        let (good, good_answer) = job(Vec::new(), move |tx| ops::create_bucket(tx, "good", &meta));
        let (bad, bad_answer) = job(Vec::new(), move |tx| {
            ops::create_bucket(tx, "half", &m2)?;
            Err::<(), _>(StoreError::Corrupt("fails after writing".into()))
        });
        commit_batch(&shared, vec![bad, good]);
        assert!(matches!(bad_answer.recv().unwrap(), Err(StoreError::Corrupt(_))));
        good_answer.recv().unwrap().unwrap();
        let txn = shared.db.begin_read().unwrap();
        let buckets = txn.open_table(BUCKETS).unwrap();
        assert!(buckets.get("good").unwrap().is_some());
        assert!(buckets.get("half").unwrap().is_none(), "the poisoned operation's write was rolled back");
    }
}
