//! The node's side of the audit trail: one thread owns the [`AuditWriter`]; requests hand it their decision and
//! wait until the record is durable (group commit: every record that arrived while the previous batch was being
//! written goes into the next batch, which costs one `fsync`). Checkpoints, signed with the node key, are written
//! every [`CHECKPOINT_EVERY`] records or [`CHECKPOINT_INTERVAL`], and at shutdown.
//!
//! INVARIANT: a request that touches data is answered only after its audit record is durable; if the log cannot
//! be written, the request fails (fail closed) — it is never served unaudited.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use redoubt_audit::sign::NodeSigner;
use redoubt_audit::writer::{AuditWriter, Recovery};
use redoubt_audit::{Entry, LogId};
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// Records between two checkpoints at most.
pub const CHECKPOINT_EVERY: u64 = 1000;
/// Time between two checkpoints at most, while records arrive.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(10);
/// Records waiting for the writer before callers are slowed down.
const QUEUE: usize = 4096;
/// Largest batch written before one `fsync`.
const MAX_BATCH: usize = 512;

enum Msg {
    Append(Box<Entry>, oneshot::Sender<Result<u64, String>>),
    Stop(std::sync::mpsc::Sender<Result<(), String>>),
}

/// A handle to the audit thread. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AuditSink {
    tx: mpsc::SyncSender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Msg::Append(..) => "Append",
            Msg::Stop(..) => "Stop",
        })
    }
}

/// Why the audit log could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the audit log in `{dir}`: {message}")]
pub struct AuditOpenError {
    dir: String,
    message: String,
}

impl AuditSink {
    /// Opens (or creates) `DATA_DIR/audit/audit.log`, repairing a torn last line, and starts the writer thread.
    pub fn open(data_dir: &Path, node_key_pem: &[u8]) -> Result<AuditSink, AuditOpenError> {
        let dir = data_dir.join(redoubt_audit::AUDIT_DIR);
        let fail = |message: String| AuditOpenError { dir: dir.display().to_string(), message };
        std::fs::create_dir_all(&dir).map_err(|e| fail(e.to_string()))?;
        let signer = NodeSigner::from_pem(node_key_pem).map_err(|e| fail(e.to_string()))?;
        let mut id = [0u8; 16];
        aws_lc_rs::rand::fill(&mut id).map_err(|_| fail("no randomness".into()))?;
        let (mut writer, recovery) =
            AuditWriter::open(&dir, LogId(id), OffsetDateTime::now_utc()).map_err(|e| fail(e.to_string()))?;
        match recovery {
            Some(Recovery::Truncated { offset, len }) => {
                tracing::warn!(offset, len, "audit log: removed a torn last record left by a crash");
            }
            Some(Recovery::NewlineRestored { seq }) => {
                tracing::warn!(seq, "audit log: restored the newline of the last record");
            }
            None => {}
        }
        // Sign whatever a crash left unsigned, so that the chain is anchored before new records.
        if writer.needs_checkpoint() {
            writer.checkpoint(&signer, OffsetDateTime::now_utc()).map_err(|e| fail(e.to_string()))?;
        }
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("redoubt-audit".into())
            .spawn(move || run(writer, signer, rx))
            .map_err(|e| fail(e.to_string()))?;
        Ok(AuditSink { tx })
    }

    /// Appends a record and waits until it is durable. Returns its sequence number.
    pub async fn record(&self, entry: Entry) -> Result<u64, String> {
        let wait = self.enqueue(entry).await?;
        wait.await.map_err(|_| "the audit writer has stopped".to_owned())?
    }

    /// Appends several records and waits until all are durable: they are queued together, so they usually share
    /// one `fsync` rather than paying one each.
    pub async fn record_all(&self, entries: Vec<Entry>) -> Result<(), String> {
        let mut waits = Vec::with_capacity(entries.len());
        for entry in entries {
            waits.push(self.enqueue(entry).await?);
        }
        for wait in waits {
            wait.await.map_err(|_| "the audit writer has stopped".to_owned())??;
        }
        Ok(())
    }

    /// Hands a record to the writer thread; the receiver answers once it is durable.
    async fn enqueue(&self, entry: Entry) -> Result<oneshot::Receiver<Result<u64, String>>, String> {
        let (done, wait) = oneshot::channel();
        let tx = self.tx.clone();
        // A full queue blocks: do that off the async workers.
        let msg = Msg::Append(Box::new(entry), done);
        match tx.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(msg)) => {
                tokio::task::spawn_blocking(move || tx.send(msg))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|_| "the audit writer has stopped".to_owned())?;
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err("the audit writer has stopped".into()),
        }
        Ok(wait)
    }

    /// Writes a final checkpoint and stops the thread. Blocks until done.
    pub fn close(&self) -> Result<(), String> {
        let (done, wait) = mpsc::channel();
        self.tx.send(Msg::Stop(done)).map_err(|_| "the audit writer has stopped".to_owned())?;
        wait.recv().map_err(|_| "the audit writer has stopped".to_owned())?
    }
}

fn run(mut writer: AuditWriter, signer: NodeSigner, rx: mpsc::Receiver<Msg>) {
    let mut since_checkpoint: u64 = 0;
    let mut last_checkpoint = Instant::now();
    let mut batch: Vec<(u64, oneshot::Sender<Result<u64, String>>)> = Vec::new();
    loop {
        let first = match rx.recv_timeout(CHECKPOINT_INTERVAL) {
            Ok(m) => Some(m),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                finish(&mut writer, &signer);
                return;
            }
        };
        let mut stop = None;
        let mut failure: Option<String> = None;
        let mut next = first;
        while let Some(msg) = next.take() {
            match msg {
                Msg::Append(entry, done) => {
                    if let Some(f) = &failure {
                        let _ = done.send(Err(f.clone()));
                    } else {
                        match writer.append(&entry, OffsetDateTime::now_utc()) {
                            Ok(appended) => batch.push((appended.seq, done)),
                            Err(e) => {
                                tracing::error!(error = %e, "audit append failed: requests fail until it is fixed");
                                let f = e.to_string();
                                let _ = done.send(Err(f.clone()));
                                failure = Some(f);
                            }
                        }
                    }
                }
                Msg::Stop(done) => {
                    stop = Some(done);
                    break;
                }
            }
            if batch.len() >= MAX_BATCH {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !batch.is_empty() {
            let synced = writer.sync().map_err(|e| e.to_string());
            since_checkpoint += batch.len() as u64;
            for (seq, done) in batch.drain(..) {
                let _ = done.send(synced.clone().map(|()| seq));
            }
        }
        let due = since_checkpoint >= CHECKPOINT_EVERY
            || (since_checkpoint > 0 && last_checkpoint.elapsed() >= CHECKPOINT_INTERVAL);
        if due {
            match writer.checkpoint(&signer, OffsetDateTime::now_utc()) {
                Ok(_) => {
                    since_checkpoint = 0;
                    last_checkpoint = Instant::now();
                }
                Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
            }
        }
        if let Some(done) = stop {
            let result = if writer.needs_checkpoint() {
                writer.checkpoint(&signer, OffsetDateTime::now_utc()).map(|_| ()).map_err(|e| e.to_string())
            } else {
                Ok(())
            };
            let _ = done.send(result);
            return;
        }
    }
}

fn finish(writer: &mut AuditWriter, signer: &NodeSigner) {
    if writer.needs_checkpoint()
        && let Err(e) = writer.checkpoint(signer, OffsetDateTime::now_utc())
    {
        tracing::error!(error = %e, "final audit checkpoint failed");
    }
}
