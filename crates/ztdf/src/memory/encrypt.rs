//! In-memory encryption: a plaintext slice to a whole ZTDF in a `Vec<u8>`. The payload entry's place and size
//! are computed up front; worker threads copy, seal and CRC their own blocks of segments in their own regions
//! of the output; the caller then writes the rest of the container through the streaming writer's code.

use std::io::Cursor;
use std::ops::Range;

use zeroize::Zeroize;

use super::{blocks, run_scoped};
use crate::error::{Error, Result};
use crate::rand::{RandomSource, array};
use crate::segment::{IV_LEN, SegmentCipher};
use crate::writer::{EncryptConfig, Prepared, WriteSummary, segment_record};
use crate::zip::ZipWriter;
use crate::{PAYLOAD_ENTRY, SEGMENT_OVERHEAD};

/// What one thread sealed: the encoded hash of each of its segments, in order, and the CRC-32 of its region.
type Block = (Vec<Vec<u8>>, crc32fast::Hasher);

/// Encrypts `plain` into a ZTDF in `out`, with `config.threads` threads (1: all on the calling thread). The
/// container is the same as [`TdfWriter`](crate::TdfWriter) writes with the same configuration (byte for
/// byte with the same random bytes).
///
/// `out`'s contents are replaced; its length is reused as scratch space, so a buffer from an earlier call
/// (or one filled beforehand) is not zero-filled again. A buffer without the capacity is replaced by a new
/// zeroed allocation whose pages each thread faults in for its own region; a buffer with the capacity but
/// not the length is zero-filled up to it on the calling thread (the only serial pass over the payload).
///
/// # Errors
/// As [`TdfWriter::new`](crate::TdfWriter::new) for the configuration, key and random source; a crypto
/// failure. On error `out` is wiped and left empty.
pub fn encrypt_in_memory(
    plain: &[u8],
    config: EncryptConfig,
    rng: &dyn RandomSource,
    out: &mut Vec<u8>,
) -> Result<WriteSummary> {
    let result = encrypt(plain, config, rng, out);
    if result.is_err() {
        // Copies of the plaintext may be waiting in regions whose seal did not run.
        out.zeroize();
    }
    result
}

fn encrypt(
    plain: &[u8],
    config: EncryptConfig,
    rng: &dyn RandomSource,
    out: &mut Vec<u8>,
) -> Result<WriteSummary> {
    let prepared = Prepared::new(config, rng)?;
    let seg = prepared.segment_size;
    // An empty payload still has one (empty) segment, which every SDK reads.
    let count = plain.len().div_ceil(seg).max(1);
    // One draw per segment, in segment order, as the streaming writer draws them.
    let ivs = (0..count).map(|_| array::<IV_LEN>(rng)).collect::<Result<Vec<_>>>()?;
    let payload_len = count
        .checked_mul(SEGMENT_OVERHEAD as usize)
        .and_then(|o| o.checked_add(plain.len()))
        .ok_or_else(|| Error::Config("the plaintext is too large".into()))?;
    let mut zip = ZipWriter::new(Cursor::new(&mut *out));
    zip.start_streamed(PAYLOAD_ENTRY)?;
    let mut hashes = Vec::with_capacity(count);
    zip.write_data_in_sink(payload_len as u64, |sink| {
        let start = usize::try_from(sink.position()).map_err(|_| Error::Crypto("position"))?;
        let end = start.checked_add(payload_len).ok_or(Error::Crypto("position"))?;
        let buf: &mut Vec<u8> = sink.get_mut();
        if buf.capacity() < end {
            // A new zeroed allocation (calloc: the kernel maps zero pages lazily), so the page faults are
            // taken by each thread in its own region, in parallel, rather than by a serial zero-fill here.
            // Room for the manifest and directory too (about 100 bytes per segment, plus key access objects
            // and assertions), so appending them does not move the payload; more is fine if it does.
            let tail = count.saturating_mul(128).saturating_add(64 * 1024);
            let mut fresh = vec![0u8; end.saturating_add(tail)];
            let header = buf.get(..start).ok_or(Error::Crypto("position"))?;
            fresh.get_mut(..start).ok_or(Error::Crypto("position"))?.copy_from_slice(header);
            fresh.truncate(end);
            *buf = fresh;
        } else if buf.len() < end {
            buf.resize(end, 0);
        }
        let payload = buf.get_mut(start..end).ok_or(Error::Crypto("position"))?;
        let mut crc = crc32fast::Hasher::new();
        for (block_hashes, block_crc) in
            seal_all(&prepared.cipher, plain, &ivs, seg, prepared.threads, payload)?
        {
            hashes.extend(block_hashes);
            crc.combine(&block_crc);
        }
        sink.set_position(end as u64);
        Ok(crc.finalize())
    })?;
    let stored_default = seg as u64 + SEGMENT_OVERHEAD;
    let last_stored = payload_len as u64 - (count as u64 - 1) * stored_default;
    let segments = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| segment_record(h, if i + 1 == count { last_stored } else { stored_default }))
        .collect();
    let aggregate = hashes.concat();
    let (_, summary) = prepared.finish(zip, segments, &aggregate, plain.len() as u64)?;
    // A reused buffer may be longer than this container.
    out.truncate(usize::try_from(summary.container_len).map_err(|_| Error::Crypto("container length"))?);
    Ok(summary)
}

/// Seals every segment into `payload` (exactly the payload entry's bytes), one contiguous block of segments
/// per thread; returns each block's hashes and CRC-32, in order.
fn seal_all(
    cipher: &SegmentCipher,
    plain: &[u8],
    ivs: &[[u8; IV_LEN]],
    seg: usize,
    threads: usize,
    payload: &mut [u8],
) -> Result<Vec<Block>> {
    let stored_seg = seg + SEGMENT_OVERHEAD as usize;
    let mut jobs: Vec<(Range<usize>, &mut [u8])> = Vec::new();
    let mut rest = payload;
    for range in blocks(ivs.len(), threads) {
        // Every segment but the last is full, so a block's stored bytes end at `end * stored_seg`, or at the
        // end of the payload for the last block.
        let len = if range.end == ivs.len() { rest.len() } else { range.len() * stored_seg };
        let (region, tail) = rest.split_at_mut_checked(len).ok_or(Error::Crypto("payload layout"))?;
        jobs.push((range, region));
        rest = tail;
    }
    run_scoped(jobs, |(range, region)| seal_block(cipher, plain, ivs, seg, range, region))?
        .into_iter()
        .collect()
}

/// One thread's work: for each segment of `range`, writes its IV and copies its plaintext into its region,
/// seals it in place and adds it to the block's CRC-32 while it is still in cache.
fn seal_block(
    cipher: &SegmentCipher,
    plain: &[u8],
    ivs: &[[u8; IV_LEN]],
    seg: usize,
    range: Range<usize>,
    region: &mut [u8],
) -> Result<Block> {
    let layout = || Error::Crypto("payload layout");
    let mut hashes = Vec::with_capacity(range.len());
    let mut crc = crc32fast::Hasher::new();
    let stored_seg = seg + SEGMENT_OVERHEAD as usize;
    for (index, stored) in range.zip(region.chunks_mut(stored_seg)) {
        let from = index.checked_mul(seg).ok_or_else(layout)?;
        let to = from.saturating_add(seg).min(plain.len());
        let src = plain.get(from..to).ok_or_else(layout)?;
        let iv = ivs.get(index).ok_or_else(layout)?;
        if stored.len() != src.len() + SEGMENT_OVERHEAD as usize {
            return Err(layout());
        }
        let (iv_room, body) = stored.split_at_mut_checked(IV_LEN).ok_or_else(layout)?;
        iv_room.copy_from_slice(iv);
        body.get_mut(..src.len()).ok_or_else(layout)?.copy_from_slice(src);
        hashes.push(cipher.seal_in_place(stored)?);
        crc.update(stored);
    }
    Ok((hashes, crc))
}
