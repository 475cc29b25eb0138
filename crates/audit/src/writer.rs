//! The writer: appends records to `DIR/audit.log`, signs checkpoints, keeps the latest checkpoint in
//! `DIR/checkpoint.json`, and recovers from a crash mid-append when it opens the log.
//!
//! Layout of the audit folder (the node uses `DATA_DIR/audit/`):
//! - `audit.log` — the log: a header line, then decision and checkpoint lines (see [`crate::record`]);
//! - `checkpoint.json` — a copy of the last checkpoint line, replaced atomically after the log is synced; the
//!   verifier's anchor against truncation.
//!
//! Durability is the caller's choice: [`AuditWriter::append`] writes (no fsync), [`AuditWriter::sync`] makes
//! everything appended so far durable, [`AuditWriter::checkpoint`] signs, appends and syncs.
//!
//! INVARIANT: the file only ever grows by whole lines, except for a crash mid-write, which leaves bytes after the
//! last `\n`. Opening removes exactly those bytes (or restores the missing `\n` when they are a whole valid
//! record); a complete line is never dropped. A failed write is cut back at once; if that fails too, the writer
//! refuses further work.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use time::{OffsetDateTime, UtcOffset};

use crate::canonical::checkpoint_message;
use crate::chain::{Chain, encode_line, parse_line};
use crate::error::{Error, Result};
use crate::lines::{LineReader, MAX_LINE};
use crate::record::{Checkpoint, DecisionRecord, Digest, Entry, FORMAT, Header, Line, LogId, VERSION};
use crate::sign::CheckpointSigner;

/// File name of the log in the audit folder. Do not change: existing nodes keep their log there.
pub const LOG_FILE: &str = "audit.log";
/// File name of the last checkpoint copy. Do not change.
pub const HEAD_FILE: &str = "checkpoint.json";

/// What opening the log had to repair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Bytes after the last `\n` were not a complete record (a crash mid-append) and were removed.
    Truncated {
        /// Where they started.
        offset: u64,
        /// How many.
        len: u64,
    },
    /// The last record was complete but lacked its `\n`; the `\n` was added.
    NewlineRestored {
        /// Its sequence number.
        seq: u64,
    },
}

/// Where an appended line went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Its sequence number.
    pub seq: u64,
    /// Its hash (the new chain head).
    pub hash: Digest,
}

/// The single writer of one audit log. Not shared: the node puts it behind a lock. An advisory file lock keeps
/// a second process (or a second writer in this one) out.
#[derive(Debug)]
pub struct AuditWriter {
    dir: PathBuf,
    file: File,
    chain: Chain,
    len: u64,
    dirty: bool,
    last_is_checkpoint: bool,
    poisoned: bool,
}

impl AuditWriter {
    /// Opens the log in `dir`, creating the folder and a new log (with id `new_log_id`, created `now`) if there is
    /// none, and repairing a torn last line. Returns the repair done, if any.
    ///
    /// # Errors
    /// [`Error::Locked`] when another writer has it open; [`Error::Damaged`] when the end of the log is not a
    /// valid record (nothing is changed then); [`Error::Io`].
    pub fn open(dir: &Path, new_log_id: LogId, now: OffsetDateTime) -> Result<(Self, Option<Recovery>)> {
        let path = dir.join(LOG_FILE);
        if !path.exists() {
            create(dir, new_log_id, now)?;
        }
        let file = OpenOptions::new().read(true).append(true).open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked(path.display().to_string())),
            Err(fs::TryLockError::Error(e)) => return Err(Error::Io(e)),
        }
        let (chain, len, last_is_checkpoint, recovery) = resume(&file, &path)?;
        let writer = Self {
            dir: dir.to_path_buf(),
            file,
            chain,
            len,
            dirty: recovery.is_some(),
            last_is_checkpoint,
            poisoned: false,
        };
        Ok((writer, recovery))
    }

    /// Appends one decision at time `now` (stored in UTC). Written, not yet durable: call [`Self::sync`].
    ///
    /// # Errors
    /// [`Error::Record`] when the record is larger than a line may be or `now` is out of range; [`Error::Io`].
    pub fn append(&mut self, entry: &Entry, now: OffsetDateTime) -> Result<Appended> {
        let rec = DecisionRecord {
            v: VERSION,
            seq: self.chain.next_seq,
            time: now.to_offset(UtcOffset::UTC),
            entry: entry.clone(),
            prev: self.chain.head,
        };
        let app = self.write_line(&Line::Decision(rec))?;
        self.last_is_checkpoint = false;
        Ok(app)
    }

    /// Makes every line appended so far durable (fsync).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn sync(&mut self) -> Result<()> {
        self.usable()?;
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Signs the chain head with `signer` at time `now`, appends the checkpoint, syncs the log, then replaces
    /// `checkpoint.json` with it.
    ///
    /// # Errors
    /// [`Error::Sign`], [`Error::Io`].
    pub fn checkpoint(&mut self, signer: &dyn CheckpointSigner, now: OffsetDateTime) -> Result<Checkpoint> {
        self.usable()?;
        let time = now.to_offset(UtcOffset::UTC);
        let (seq, prev, key_id) = (self.chain.next_seq, self.chain.head, signer.key_id());
        let sig = signer.sign(&checkpoint_message(&self.chain.log_id, seq, time, &key_id, &prev))?;
        let cp = Checkpoint { v: VERSION, seq, time, key_id, prev, sig };
        let line = Line::Checkpoint(cp.clone());
        self.write_line(&line)?;
        self.last_is_checkpoint = true;
        self.sync()?;
        let mut text = encode_line(&line).map_err(|e| Error::Record(e.to_string()))?;
        text.push(b'\n');
        write_atomic(&self.dir, HEAD_FILE, &text)?;
        Ok(cp)
    }

    /// This log's id.
    #[must_use]
    pub fn log_id(&self) -> LogId {
        self.chain.log_id
    }

    /// Sequence number of the next line.
    #[must_use]
    pub fn next_seq(&self) -> u64 {
        self.chain.next_seq
    }

    /// Hash of the last line.
    #[must_use]
    pub fn head(&self) -> Digest {
        self.chain.head
    }

    /// Whether lines were appended since the last checkpoint (they are chained but not yet signed).
    #[must_use]
    pub fn needs_checkpoint(&self) -> bool {
        !self.last_is_checkpoint
    }

    fn usable(&self) -> Result<()> {
        if self.poisoned {
            return Err(Error::Damaged {
                path: self.dir.join(LOG_FILE).display().to_string(),
                reason: "an earlier write failed and could not be undone; reopen the log".into(),
            });
        }
        Ok(())
    }

    fn write_line(&mut self, line: &Line) -> Result<Appended> {
        self.usable()?;
        let mut bytes = encode_line(line).map_err(|e| Error::Record(e.to_string()))?;
        if bytes.len() > MAX_LINE {
            return Err(Error::Record(format!(
                "it is {} bytes encoded, over the {MAX_LINE}-byte limit",
                bytes.len()
            )));
        }
        bytes.push(b'\n');
        if let Err(e) = self.file.write_all(&bytes) {
            // Cut the partial line back so the file still ends with a whole line.
            if self.file.set_len(self.len).is_err() {
                self.poisoned = true;
            }
            return Err(Error::Io(e));
        }
        self.len += bytes.len() as u64;
        self.dirty = true;
        let hash = self.chain.accept_unsigned(line).map_err(|e| Error::Record(e.to_string()))?;
        Ok(Appended { seq: line.seq().unwrap_or_default(), hash })
    }
}

/// Creates a new log atomically: the header is written and synced under a temporary name, then linked into
/// place (which fails if a log appeared meanwhile).
fn create(dir: &Path, log_id: LogId, now: OffsetDateTime) -> Result<()> {
    fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let header = Line::Header(Header {
        format: FORMAT.into(),
        v: VERSION,
        log_id,
        created: now.to_offset(UtcOffset::UTC),
    });
    let mut text = encode_line(&header).map_err(|e| Error::Record(e.to_string()))?;
    text.push(b'\n');
    let tmp = dir.join(format!("{LOG_FILE}.new-{log_id}"));
    {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
    }
    let linked = fs::hard_link(&tmp, dir.join(LOG_FILE));
    fs::remove_file(&tmp)?;
    match linked {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::Io(e)),
    }
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Writes `DIR/name` atomically (temporary file, fsync, rename, fsync of the folder).
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Finds the chain state at the end of the log by reading its first line and its last two (a line is at most
/// [`MAX_LINE`] bytes, so a fixed window from the end holds them); repairs a torn tail.
fn resume(file: &File, path: &Path) -> Result<(Chain, u64, bool, Option<Recovery>)> {
    let damaged = |reason: String| Error::Damaged { path: path.display().to_string(), reason };
    let mut header_reader = LineReader::new(BufReader::new(file));
    let header = match header_reader.next_line()? {
        Some(raw) if raw.terminated && !raw.too_long => {
            parse_line(&raw.bytes).map_err(|e| damaged(e.to_string()))?
        }
        _ => return Err(damaged("it has no complete header line".into())),
    };
    let mut chain = Chain::start(&header).map_err(|e| damaged(e.to_string()))?;

    let len = file.metadata()?.len();
    let window = (2 * (MAX_LINE as u64 + 1)).min(len);
    let start = len - window;
    let mut tail = vec![0u8; usize::try_from(window).map_err(|_| damaged("it is too large".into()))?];
    file.read_exact_at(&mut tail, start)?;
    let Some(last_nl) = tail.iter().rposition(|&b| b == b'\n') else {
        return Err(damaged("its last line is longer than the limit".into()));
    };
    let torn = tail.get(last_nl + 1..).unwrap_or_default();
    let body = tail.get(..last_nl).unwrap_or_default();
    let last_start = body.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
    let last_line = match last_start {
        Some(i) => body.get(i..).unwrap_or_default(),
        None if start == 0 => body,
        None => return Err(damaged("its last line is longer than the limit".into())),
    };
    let last = parse_line(last_line).map_err(|e| damaged(format!("its last line: {e}")))?;
    let mut last_is_checkpoint = matches!(last, Line::Checkpoint(_));
    if let (Some(seq), Line::Decision(_) | Line::Checkpoint(_)) = (last.seq(), &last) {
        chain.next_seq = seq.saturating_add(1);
        chain.head = crate::canonical::line_hash(&last);
    }
    if torn.is_empty() {
        return Ok((chain, len, last_is_checkpoint, None));
    }
    // A whole valid record missing only its `\n` is kept; anything else after the last `\n` is a torn write.
    if let Ok(line) = parse_line(torn) {
        let mut next = chain.clone();
        if next.accept_unsigned(&line).is_ok() {
            let mut f = file;
            f.write_all(b"\n")?;
            f.sync_data()?;
            last_is_checkpoint = matches!(line, Line::Checkpoint(_));
            let seq = line.seq().unwrap_or_default();
            return Ok((next, len + 1, last_is_checkpoint, Some(Recovery::NewlineRestored { seq })));
        }
    }
    let keep = len - torn.len() as u64;
    file.set_len(keep)?;
    file.sync_data()?;
    Ok((chain, keep, last_is_checkpoint, Some(Recovery::Truncated { offset: keep, len: torn.len() as u64 })))
}
