//! The streaming writer: plaintext in through [`std::io::Write`], a ZTDF out to any `Write` (no seeking).
//! Memory holds a few segments whatever the payload size: the one being filled, and when parallel at most
//! two per thread in flight. With one thread each segment is sealed in place, its CRC-32 taken right after
//! (while it is in cache) and written. With more, worker threads seal and CRC segments while the caller keeps
//! copying in and writing earlier segments out, in order. The payload entry is written first with a data
//! descriptor; the manifest (which needs every segment hash) last. Key shares are generated and wrapped up
//! front, so a failure to wrap writes nothing.

mod prepared;

use std::io::Write;
use std::sync::Arc;

pub(crate) use prepared::{Prepared, segment_record};

use crate::PAYLOAD_ENTRY;
use crate::assertion::AssertionConfig;
use crate::error::{Error, Result};
use crate::key::{KasTarget, SplitMode};
use crate::manifest::{Manifest, Segment};
use crate::parallel::Pool;
use crate::rand::{RandomSource, array};
use crate::segment::{IV_LEN, SegmentHashAlg, TAG_LEN};
use crate::zip::ZipWriter;

/// What to write.
#[derive(Debug)]
pub struct EncryptConfig {
    /// KAS targets the key is wrapped to (at least one).
    pub kas: Vec<KasTarget>,
    /// How targets without an explicit `sid` share the key.
    pub split: SplitMode,
    /// Plaintext segment size, 16 KiB to 4 MiB.
    pub segment_size: u32,
    /// Segment hash algorithm.
    pub hash_alg: SegmentHashAlg,
    /// Policy attribute FQNs.
    pub attributes: Vec<String>,
    /// Policy dissemination list.
    pub dissem: Vec<String>,
    /// Policy UUID; a random one when `None`.
    pub policy_uuid: Option<String>,
    /// MIME type of the plaintext.
    pub mime_type: String,
    /// Metadata encrypted under every key share, when given.
    pub metadata: Option<Vec<u8>>,
    /// Assertions to bind.
    pub assertions: Vec<AssertionConfig>,
    /// Threads for segment encryption (1 = the caller's thread only).
    pub threads: usize,
}

impl Default for EncryptConfig {
    fn default() -> Self {
        Self {
            kas: Vec::new(),
            split: SplitMode::AllOf,
            segment_size: crate::DEFAULT_SEGMENT_SIZE,
            hash_alg: SegmentHashAlg::Gmac,
            attributes: Vec::new(),
            dissem: Vec::new(),
            policy_uuid: None,
            mime_type: "application/octet-stream".into(),
            metadata: None,
            assertions: Vec::new(),
            threads: 1,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct WriteSummary {
    /// The manifest as written.
    pub manifest: Manifest,
    /// Plaintext bytes encrypted.
    pub plaintext_len: u64,
    /// Container bytes written.
    pub container_len: u64,
}

/// A sealed segment: stored bytes, hash as encoded in the manifest (before base64), CRC-32 of the stored bytes.
type Sealed = (Vec<u8>, Vec<u8>, u32);

/// Encrypts a stream into a ZTDF. Write the plaintext, then call [`TdfWriter::finish`]; dropping the writer
/// without finishing leaves an incomplete container (the caller discards it).
pub struct TdfWriter<'r, W: Write> {
    zip: ZipWriter<W>,
    prepared: Prepared,
    rng: &'r dyn RandomSource,
    /// Workers (started at the first full segment when `threads > 1`).
    pool: Option<Pool<Vec<u8>, Sealed>>,
    /// Segments handed to the cipher so far.
    submitted: u64,
    spare: Vec<Vec<u8>>,
    current: Vec<u8>,
    segments: Vec<Segment>,
    aggregate: Vec<u8>,
    plaintext_len: u64,
    failed: bool,
}

impl<W: Write> std::fmt::Debug for TdfWriter<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TdfWriter")
            .field("segment_size", &self.prepared.segment_size)
            .field("segments", &self.segments.len())
            .field("plaintext_len", &self.plaintext_len)
            .finish_non_exhaustive()
    }
}

impl<'r, W: Write> TdfWriter<'r, W> {
    /// Generates the key, wraps it to every KAS target and starts the container.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration, key or random failures, I/O errors.
    pub fn new(out: W, config: EncryptConfig, rng: &'r dyn RandomSource) -> Result<Self> {
        let prepared = Prepared::new(config, rng)?;
        let mut zip = ZipWriter::new(out);
        zip.start_streamed(PAYLOAD_ENTRY)?;
        let current = Self::fresh(Vec::new(), prepared.segment_size);
        Ok(Self {
            zip,
            prepared,
            rng,
            pool: None,
            submitted: 0,
            spare: Vec::new(),
            current,
            segments: Vec::new(),
            aggregate: Vec::new(),
            plaintext_len: 0,
            failed: false,
        })
    }

    /// A segment buffer with room for IV, plaintext and tag, holding a placeholder IV.
    fn fresh(mut buf: Vec<u8>, segment_size: usize) -> Vec<u8> {
        buf.clear();
        buf.reserve(IV_LEN + segment_size + TAG_LEN);
        buf.resize(IV_LEN, 0);
        buf
    }

    fn take_buffer(&mut self) -> Vec<u8> {
        let b = self.spare.pop().unwrap_or_default();
        Self::fresh(b, self.prepared.segment_size)
    }

    /// Jobs in flight at most when parallel: two per thread keeps every worker busy while the caller writes.
    fn max_in_flight(&self) -> u64 {
        (self.prepared.threads as u64).saturating_mul(2)
    }

    /// Gives the segment an IV and seals it, inline or on the workers; writes every segment that is ready.
    fn submit(&mut self, mut buf: Vec<u8>) -> Result<()> {
        let iv: [u8; IV_LEN] = array(self.rng)?;
        if let Some(head) = buf.get_mut(..IV_LEN) {
            head.copy_from_slice(&iv);
        }
        self.submitted += 1;
        if self.prepared.threads <= 1 {
            let (hash, crc) = self.prepared.cipher.seal_with_crc(&mut buf)?;
            return self.emit((buf, hash, crc));
        }
        if self.pool.is_none() {
            let cipher = Arc::clone(&self.prepared.cipher);
            self.pool = Some(Pool::new(self.prepared.threads, move |mut buf: Vec<u8>| {
                let (hash, crc) = cipher.seal_with_crc(&mut buf)?;
                Ok((buf, hash, crc))
            })?);
        }
        let pool = self.pool.as_mut().ok_or(Error::Crypto("worker pool"))?;
        pool.submit(buf)?;
        // Write what is already done, then wait only while the window is full.
        while let Some(sealed) = self.pool.as_mut().and_then(Pool::try_next_in_order) {
            self.emit(sealed?)?;
        }
        let max = self.max_in_flight();
        while let Some(pool) = self.pool.as_mut().filter(|p| p.outstanding() >= max) {
            let sealed = pool.next_in_order()?;
            self.emit(sealed)?;
        }
        Ok(())
    }

    /// Writes every segment still in flight and stops the workers.
    fn drain(&mut self) -> Result<()> {
        while let Some(pool) = self.pool.as_mut().filter(|p| p.outstanding() > 0) {
            let sealed = pool.next_in_order()?;
            self.emit(sealed)?;
        }
        self.pool = None;
        Ok(())
    }

    /// Writes one sealed segment (the next in order) and records its hash.
    fn emit(&mut self, (buf, hash, crc): Sealed) -> Result<()> {
        self.zip.write_data_with_crc(&buf, crc)?;
        let stored = buf.len() as u64;
        self.segments.push(segment_record(&hash, stored));
        self.aggregate.extend_from_slice(&hash);
        self.spare.push(buf);
        Ok(())
    }

    fn push_current(&mut self) -> Result<()> {
        let next = self.take_buffer();
        let full = std::mem::replace(&mut self.current, next);
        self.submit(full)
    }

    fn write_inner(&mut self, mut data: &[u8]) -> Result<()> {
        while !data.is_empty() {
            let room = IV_LEN + self.prepared.segment_size - self.current.len();
            let (now, rest) = data.split_at(room.min(data.len()));
            self.current.extend_from_slice(now);
            self.plaintext_len += now.len() as u64;
            data = rest;
            if self.current.len() == IV_LEN + self.prepared.segment_size {
                self.push_current()?;
            }
        }
        Ok(())
    }

    /// Encrypts the rest, writes the manifest and the ZIP directory, and returns the sink.
    ///
    /// # Errors
    /// I/O and crypto errors; after an earlier write error.
    pub fn finish(mut self) -> Result<(W, WriteSummary)> {
        if self.failed {
            return Err(Error::Config("an earlier write failed; the container is incomplete".into()));
        }
        // An empty payload still has one (empty) segment, which every SDK reads.
        if self.current.len() > IV_LEN || self.submitted == 0 {
            let last = std::mem::take(&mut self.current);
            self.submit(last)?;
        }
        self.drain()?;
        let segments = std::mem::take(&mut self.segments);
        self.prepared.finish(self.zip, segments, &self.aggregate, self.plaintext_len)
    }
}

impl<W: Write> Write for TdfWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            return Err(std::io::Error::other("an earlier write failed; the container is incomplete"));
        }
        match self.write_inner(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                self.failed = true;
                Err(match e {
                    Error::Io(io) => io,
                    other => std::io::Error::other(other),
                })
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Segments are written whole; a partial segment waits for more data or `finish`.
        Ok(())
    }
}
