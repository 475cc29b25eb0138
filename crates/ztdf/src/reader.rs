//! The reader: opens a ZTDF from a `Read + Seek` source and checks its structure without keys; unwraps the
//! payload key with KAS private keys (verifying every policy binding it uses); then, in [`TdfReader::decryptor`],
//! verifies the root signature and every assertion before any segment is decrypted. The decryptor gives
//! sequential (optionally parallel) decryption, single segments, and a `Read + Seek` plaintext view for range
//! requests; each segment is checked before its plaintext is released, and memory holds a few segments.

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use zeroize::{Zeroize, Zeroizing};

pub use crate::layout::SegmentInfo;

use crate::MANIFEST_ENTRY;
use crate::assertion::{AssertionVerification, AssertionVerifier};
use crate::error::{Error, IntegrityError, Result};
use crate::key::{KasPrivateKey, KeyShare, PayloadKey, decrypt_metadata, unwrap_key_access};
use crate::layout::{Layout, check};
use crate::limits::ReadLimits;
use crate::manifest::{KeyAccessObject, Manifest};
use crate::parallel::Pool;
use crate::policy::{Policy, verify_policy_binding};
use crate::segment::SegmentCipher;
use crate::zip::{ZipEntry, read_directory};

/// Options for verification and decryption.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Keys for assertion bindings (HS256 with the payload key when none is given for an assertion).
    pub assertions: AssertionVerification,
    /// Threads for [`Decryptor::decrypt_to`] (0 or 1: the caller's thread only).
    pub threads: usize,
}

/// The payload key recovered from the key access objects, and the metadata they carried.
pub struct Unwrapped {
    /// The payload key.
    pub key: PayloadKey,
    /// Decrypted metadata of the first key access object that had any.
    pub metadata: Option<Vec<u8>>,
}

impl std::fmt::Debug for Unwrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the key nor the (possibly sensitive) metadata is ever printed.
        f.debug_struct("Unwrapped")
            .field("metadata_len", &self.metadata.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// An opened container whose structure has been checked.
#[derive(Debug)]
pub struct TdfReader<R> {
    source: R,
    manifest: Manifest,
    layout: Layout,
    entries: Vec<ZipEntry>,
}

/// Reads a whole ZIP entry of bounded size and checks its CRC-32.
fn read_entry<R: Read + Seek>(source: &mut R, entry: &ZipEntry, max: u64) -> Result<Vec<u8>> {
    if entry.size > max {
        return Err(Error::Limit(format!("entry `{}` is {} bytes (at most {max})", entry.name, entry.size)));
    }
    source.seek(SeekFrom::Start(entry.data_offset))?;
    let mut buf = vec![0u8; usize::try_from(entry.size).map_err(|_| Error::Limit("entry size".into()))?];
    source.read_exact(&mut buf)?;
    if crc32fast::hash(&buf) != entry.crc32 {
        return Err(IntegrityError::Crc(entry.name.clone()).into());
    }
    Ok(buf)
}

/// Finds the manifest entry and parses it (shared with `inspect`).
pub(crate) fn load_manifest<R: Read + Seek>(
    source: &mut R,
    limits: &ReadLimits,
) -> Result<(Manifest, Vec<ZipEntry>)> {
    let entries = read_directory(source, limits.max_zip_entries)?;
    let entry = entries
        .iter()
        .find(|e| e.name == MANIFEST_ENTRY)
        .or_else(|| entries.iter().find(|e| e.name == "manifest.json"))
        .ok_or_else(|| Error::Zip(format!("there is no `{MANIFEST_ENTRY}` entry")))?;
    let bytes = read_entry(source, entry, limits.max_manifest_bytes)?;
    Ok((Manifest::from_json(&bytes)?, entries))
}

/// The payload entry the manifest points at.
pub(crate) fn payload_entry<'e>(manifest: &Manifest, entries: &'e [ZipEntry]) -> Result<&'e ZipEntry> {
    let url = &manifest.payload.url;
    entries
        .iter()
        .find(|e| &e.name == url)
        .ok_or_else(|| Error::Zip(format!("there is no payload entry `{url}`")))
}

impl<R: Read + Seek> TdfReader<R> {
    /// Opens a container with the default limits.
    ///
    /// # Errors
    /// ZIP, manifest, limit and I/O errors; integrity errors when sizes disagree.
    pub fn open(source: R) -> Result<Self> {
        Self::open_with_limits(source, &ReadLimits::default())
    }

    /// Opens a container with the given limits.
    ///
    /// # Errors
    /// As [`TdfReader::open`].
    pub fn open_with_limits(mut source: R, limits: &ReadLimits) -> Result<Self> {
        let (manifest, entries) = load_manifest(&mut source, limits)?;
        let payload = payload_entry(&manifest, &entries)?;
        let layout = check(&manifest, payload.data_offset, payload.size, limits)?;
        Ok(Self { source, manifest, layout, entries })
    }

    /// The manifest.
    #[must_use]
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The ZIP entries.
    #[must_use]
    pub fn entries(&self) -> &[ZipEntry] {
        &self.entries
    }

    /// The decoded policy.
    ///
    /// # Errors
    /// Never after a successful open (the policy was checked then).
    pub fn policy(&self) -> Result<Policy> {
        Policy::from_base64(&self.manifest.encryption_information.policy)
    }

    /// The segment layout.
    #[must_use]
    pub fn segments(&self) -> &[SegmentInfo] {
        &self.layout.segments
    }

    /// Plaintext size in bytes.
    #[must_use]
    pub fn plaintext_len(&self) -> u64 {
        self.layout.plaintext_len
    }

    /// True for a legacy (hex-encoded hashes) container.
    #[must_use]
    pub fn is_legacy(&self) -> bool {
        self.layout.legacy
    }

    /// Recovers the payload key: for every split (`sid`), the first key access object that one of `keys`
    /// unwraps, whose policy binding is then verified (a mismatch fails closed); the shares are XORed.
    ///
    /// # Errors
    /// [`Error::KeyAccess`] when a split cannot be unwrapped with the keys given; integrity errors for a
    /// policy binding or encrypted metadata that does not verify.
    pub fn unwrap_payload_key(&self, keys: &[KasPrivateKey]) -> Result<Unwrapped> {
        let what = format!("none of the {} private key(s) given unwraps", keys.len());
        self.unwrap_payload_key_with(&what, |_, kao| keys.iter().find_map(|k| unwrap_key_access(kao, k).ok()))
    }

    /// Recovers the payload key with shares from anywhere (a KAS rewrap, an HSM): `share_for(index, kao)` is
    /// asked for each key access object of a split in turn until one gives a share; its policy binding is
    /// verified here whatever the source. `none_found` starts the error for a split no object gave a share for.
    ///
    /// # Errors
    /// As [`TdfReader::unwrap_payload_key`].
    pub fn unwrap_payload_key_with(
        &self,
        none_found: &str,
        mut share_for: impl FnMut(usize, &KeyAccessObject) -> Option<KeyShare>,
    ) -> Result<Unwrapped> {
        let ei = &self.manifest.encryption_information;
        let mut splits: Vec<&str> = Vec::new();
        for k in &ei.key_access {
            if !splits.contains(&k.split_id()) {
                splits.push(k.split_id());
            }
        }
        let mut shares: Vec<KeyShare> = Vec::with_capacity(splits.len());
        let mut metadata = None;
        for sid in splits {
            let mut found = None;
            let mut tried = Vec::new();
            for (index, kao) in ei.key_access.iter().enumerate().filter(|(_, k)| k.split_id() == sid) {
                tried.push(format!("`{}`", kao.url));
                let Some(share) = share_for(index, kao) else { continue };
                verify_policy_binding(share.as_bytes(), &ei.policy, &kao.policy_binding, index, &kao.url)?;
                if let Some(enc) = kao.encrypted_metadata.as_deref().filter(|m| !m.is_empty()) {
                    match decrypt_metadata(&share, enc) {
                        Ok(Some(m)) => {
                            metadata.get_or_insert(m);
                        }
                        _ => return Err(IntegrityError::Metadata { index }.into()),
                    }
                }
                found = Some(share);
                break;
            }
            match found {
                Some(s) => shares.push(s),
                None => {
                    let which = if sid.is_empty() { String::new() } else { format!(" of split `{sid}`") };
                    return Err(Error::KeyAccess(format!(
                        "{none_found} the key access object(s){which} for {}",
                        tried.join(", ")
                    )));
                }
            }
        }
        Ok(Unwrapped { key: PayloadKey::combine(&shares), metadata })
    }

    /// Verifies the payload key against the root signature and every assertion binding, without decrypting.
    ///
    /// # Errors
    /// [`IntegrityError::PayloadKey`] when the key does not verify the root signature (wrong key or tampered
    /// hashes), [`IntegrityError::Assertion`] for an assertion that does not verify.
    pub fn verify(&self, key: &PayloadKey, options: &VerifyOptions) -> Result<()> {
        let cipher = SegmentCipher::new(key, self.layout.hash_alg, self.layout.legacy)?;
        let aggregate = self.layout.aggregate();
        let ii = &self.manifest.encryption_information.integrity_information;
        cipher.verify_root_signature(&aggregate, &ii.root_signature.sig)?;
        let dek = AssertionVerifier::Hs256(zeroize::Zeroizing::new(key.as_bytes().to_vec()));
        for a in &self.manifest.assertions {
            let verifier = options.assertions.keys.get(&a.id).unwrap_or(&dek);
            a.verify(&aggregate, self.layout.legacy, verifier)?;
        }
        Ok(())
    }

    /// Verifies (as [`TdfReader::verify`]) and returns the decryptor.
    ///
    /// # Errors
    /// As [`TdfReader::verify`].
    pub fn decryptor(self, key: PayloadKey, options: &VerifyOptions) -> Result<Decryptor<R>> {
        self.verify(&key, options)?;
        let cipher = Arc::new(SegmentCipher::new(&key, self.layout.hash_alg, self.layout.legacy)?);
        Ok(Decryptor { source: self.source, cipher, layout: self.layout, threads: options.threads.max(1) })
    }

    /// Gives the source back.
    pub fn into_inner(self) -> R {
        self.source
    }
}

/// Decrypts a verified container. Every segment is checked against its manifest hash and GCM tag before its
/// plaintext is released; a failure names the segment and stops.
#[derive(Debug)]
pub struct Decryptor<R> {
    pub(crate) source: R,
    pub(crate) cipher: Arc<SegmentCipher>,
    pub(crate) layout: Layout,
    pub(crate) threads: usize,
}

/// A buffer that may hold plaintext: wiped when dropped, not between segments (the next segment's stored
/// bytes overwrite it; wiping 2 MiB byte by byte per segment cost more than decrypting it).
type PlainBuf = Zeroizing<Vec<u8>>;

/// Reads a stored segment into `buf`, resized to its length (the previous contents are overwritten; nothing
/// is zero-filled when the length does not change).
fn read_stored<R: Read + Seek>(
    source: &mut R,
    info: &SegmentInfo,
    count: usize,
    buf: &mut Vec<u8>,
) -> Result<()> {
    buf.resize(usize::try_from(info.stored_len).map_err(|_| Error::Limit("segment size".into()))?, 0);
    source.seek(SeekFrom::Start(info.stored_offset))?;
    source.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            Error::Integrity(IntegrityError::Segment { index: info.index, count })
        }
        _ => Error::Io(e),
    })
}

impl<R: Read + Seek> Decryptor<R> {
    /// The segment layout.
    #[must_use]
    pub fn segments(&self) -> &[SegmentInfo] {
        &self.layout.segments
    }

    /// Plaintext size in bytes.
    #[must_use]
    pub fn plaintext_len(&self) -> u64 {
        self.layout.plaintext_len
    }

    /// Decrypts one segment and appends its plaintext to `out`.
    ///
    /// # Errors
    /// [`IntegrityError::Segment`] when it does not verify; [`Error::Config`] for an index out of range.
    pub fn decrypt_segment(&mut self, index: usize, out: &mut Vec<u8>) -> Result<()> {
        let info = *self
            .layout
            .segments
            .get(index)
            .ok_or_else(|| Error::Config(format!("segment {index} does not exist")))?;
        let count = self.layout.segments.len();
        let mut buf = Vec::new();
        read_stored(&mut self.source, &info, count, &mut buf)?;
        let expected = self.layout.hashes.get(index).ok_or(Error::Crypto("layout"))?;
        let range = self.cipher.open(&mut buf, expected, index, count)?;
        out.extend_from_slice(buf.get(range).ok_or(Error::Crypto("layout"))?);
        buf.zeroize();
        Ok(())
    }

    /// Decrypts the whole payload into `out`, with the configured number of threads; returns bytes written.
    ///
    /// # Errors
    /// The first segment that does not verify, I/O errors.
    pub fn decrypt_to<W: Write>(&mut self, mut out: W) -> Result<u64> {
        let written = if self.threads > 1 && self.layout.segments.len() > 1 {
            self.decrypt_parallel(&mut out)?
        } else {
            self.decrypt_serial(&mut out)?
        };
        out.flush()?;
        Ok(written)
    }

    /// One thread: one buffer, read, verified and decrypted in place, written out; wiped at the end.
    fn decrypt_serial<W: Write>(&mut self, out: &mut W) -> Result<u64> {
        let count = self.layout.segments.len();
        let mut buf = PlainBuf::default();
        let mut written = 0u64;
        for (info, expected) in self.layout.segments.iter().zip(&self.layout.hashes) {
            read_stored(&mut self.source, info, count, &mut buf)?;
            let range = self.cipher.open(buf.as_mut_slice(), expected, info.index, count)?;
            let pt = buf.get(range).ok_or(Error::Crypto("layout"))?;
            out.write_all(pt)?;
            written += pt.len() as u64;
        }
        Ok(written)
    }

    /// Several threads: the caller reads segments ahead (at most two per thread in flight) and writes them
    /// out in order while the workers verify and decrypt. A segment's plaintext is written only once its
    /// hash and tag have verified; the first failure in segment order stops everything.
    fn decrypt_parallel<W: Write>(&mut self, out: &mut W) -> Result<u64> {
        let count = self.layout.segments.len();
        let cipher = Arc::clone(&self.cipher);
        let mut pool =
            Pool::new(self.threads, move |(mut buf, expected, index): (PlainBuf, Vec<u8>, usize)| {
                let range = cipher.open(buf.as_mut_slice(), &expected, index, count)?;
                Ok((buf, range))
            })?;
        let max = (self.threads as u64).saturating_mul(2);
        let mut spare: Vec<PlainBuf> = Vec::new();
        let mut sent = 0usize;
        let mut written = 0u64;
        for _ in 0..count {
            while sent < count && pool.outstanding() < max {
                let info = self.layout.segments.get(sent).ok_or(Error::Crypto("layout"))?;
                let expected = self.layout.hashes.get(sent).ok_or(Error::Crypto("layout"))?.clone();
                let mut buf = spare.pop().unwrap_or_default();
                read_stored(&mut self.source, info, count, &mut buf)?;
                pool.submit((buf, expected, sent))?;
                sent += 1;
            }
            let (buf, range) = pool.next_in_order()?;
            let pt = buf.get(range).ok_or(Error::Crypto("layout"))?;
            out.write_all(pt)?;
            written += pt.len() as u64;
            spare.push(buf);
        }
        Ok(written)
    }

    /// A `Read + Seek` view of the plaintext that decrypts only the segments it touches.
    #[must_use]
    pub fn into_reader(self) -> PlaintextReader<R> {
        PlaintextReader { inner: self, pos: 0, cached: None, plain: Vec::new() }
    }
}

/// Random access to the plaintext: each read decrypts (and verifies) the segment under the cursor, caching
/// the last one. Suited to range requests: a range decrypts only the segments it overlaps.
#[derive(Debug)]
pub struct PlaintextReader<R> {
    inner: Decryptor<R>,
    pos: u64,
    cached: Option<usize>,
    plain: Vec<u8>,
}

impl<R> Drop for PlaintextReader<R> {
    fn drop(&mut self) {
        self.plain.zeroize();
    }
}

impl<R: Read + Seek> Read for PlaintextReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.inner.layout.plaintext_len || buf.is_empty() {
            return Ok(0);
        }
        let segs = &self.inner.layout.segments;
        let idx = segs.partition_point(|s| s.plaintext_offset + s.plaintext_len <= self.pos);
        let info = *segs.get(idx).ok_or_else(|| std::io::Error::other("position outside the payload"))?;
        if self.cached != Some(idx) {
            self.plain.zeroize();
            self.plain.clear();
            self.cached = None;
            self.inner.decrypt_segment(idx, &mut self.plain).map_err(|e| match e {
                Error::Io(io) => io,
                other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
            })?;
            self.cached = Some(idx);
        }
        let start = usize::try_from(self.pos - info.plaintext_offset).map_err(std::io::Error::other)?;
        let avail = self.plain.get(start..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for PlaintextReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let len = self.inner.layout.plaintext_len;
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let p = target
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start"))?;
        self.pos = p;
        Ok(p)
    }
}
