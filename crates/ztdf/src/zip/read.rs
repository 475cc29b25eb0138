//! Reads the central directory of a stored-entry ZIP from a `Read + Seek` source, bounded: the tail search
//! reads at most 64 KiB, the directory at most a fixed size, and every entry's data range is checked to lie
//! inside the archive before the central directory, without overlaps. The payload itself is never read here.

use std::io::{Read, Seek, SeekFrom};

use super::bytes::ByteReader;
use super::{
    CENTRAL_HEADER_SIG, EOCD_LEN, EOCD_SIG, FLAG_ENCRYPTED, LOCAL_HEADER_LEN, LOCAL_HEADER_SIG, U32_MAX,
    ZIP64_EOCD_LEN, ZIP64_EOCD_SIG, ZIP64_EXTRA_ID, ZIP64_LOCATOR_LEN, ZIP64_LOCATOR_SIG,
};
use crate::error::{Error, Result};

/// Largest central directory read (bytes); a ZTDF has two entries.
const MAX_CENTRAL_DIRECTORY: u64 = 1024 * 1024;

/// One stored entry: where its data lies in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipEntry {
    /// Entry name as stored.
    pub name: String,
    /// Offset of the first data byte from the start of the source.
    pub data_offset: u64,
    /// Size of the data (stored: compressed = uncompressed).
    pub size: u64,
    /// CRC-32 of the data, from the central directory.
    pub crc32: u32,
}

/// Reads and checks the central directory. Entries must be stored (method 0), unencrypted, uniquely named,
/// and lie inside the archive without overlapping.
///
/// # Errors
/// [`Error::Zip`] for a malformed archive, [`Error::Limit`] past `max_entries`, I/O errors.
pub fn read_directory<R: Read + Seek>(src: &mut R, max_entries: usize) -> Result<Vec<ZipEntry>> {
    let len = src.seek(SeekFrom::End(0))?;
    let (eocd_pos, eocd) = find_eocd(src, len)?;
    let mut r = ByteReader::new(&eocd);
    let _sig = r.u32()?;
    let disk = r.u16()?;
    let cd_disk = r.u16()?;
    let _disk_entries = r.u16()?;
    let mut count = u64::from(r.u16()?);
    let mut cd_size = u64::from(r.u32()?);
    let mut cd_offset = u64::from(r.u32()?);
    if disk != 0 || cd_disk != 0 {
        return Err(Error::Zip("multi-disk archives are not supported".into()));
    }
    let mut cd_end_limit = eocd_pos;
    if let Some(z64) = read_zip64(src, eocd_pos)? {
        count = z64.count;
        cd_size = z64.cd_size;
        cd_offset = z64.cd_offset;
        cd_end_limit = z64.record_pos;
    } else if count == 0xFFFF || cd_size == U32_MAX || cd_offset == U32_MAX {
        return Err(Error::Zip("the end record needs ZIP64 records that are missing".into()));
    }
    if count > max_entries as u64 {
        return Err(Error::Limit(format!("the archive declares {count} entries (at most {max_entries})")));
    }
    if cd_size > MAX_CENTRAL_DIRECTORY {
        return Err(Error::Limit(format!("the central directory is {cd_size} bytes")));
    }
    let cd_end = cd_offset.checked_add(cd_size).ok_or_else(|| Error::Zip("offsets overflow".into()))?;
    if cd_end > cd_end_limit {
        return Err(Error::Zip("the central directory lies outside the archive".into()));
    }
    src.seek(SeekFrom::Start(cd_offset))?;
    let mut cd = vec![0u8; usize::try_from(cd_size).map_err(|_| Error::Zip("size overflow".into()))?];
    src.read_exact(&mut cd)?;
    let mut r = ByteReader::new(&cd);
    let mut entries: Vec<ZipEntry> = Vec::new();
    for _ in 0..count {
        let raw = central_entry(&mut r)?;
        if entries.iter().any(|e| e.name == raw.name) {
            return Err(Error::Zip(format!("entry `{}` appears twice", raw.name)));
        }
        if raw.flags & FLAG_ENCRYPTED != 0 {
            return Err(Error::Zip(format!("entry `{}` uses ZIP encryption", raw.name)));
        }
        if raw.method != 0 || raw.compressed != raw.uncompressed {
            return Err(Error::Zip(format!("entry `{}` is compressed; a ZTDF stores entries", raw.name)));
        }
        let data_offset = local_data_offset(src, raw.offset, &raw.name)?;
        let end =
            data_offset.checked_add(raw.compressed).ok_or_else(|| Error::Zip("offsets overflow".into()))?;
        if end > cd_offset {
            return Err(Error::Zip(format!("entry `{}` runs past the central directory", raw.name)));
        }
        entries.push(ZipEntry { name: raw.name, data_offset, size: raw.compressed, crc32: raw.crc });
    }
    if r.remaining() != 0 {
        return Err(Error::Zip("the central directory has trailing bytes".into()));
    }
    let mut spans: Vec<(u64, u64)> =
        entries.iter().map(|e| (e.data_offset, e.data_offset + e.size)).collect();
    spans.sort_unstable();
    if spans.windows(2).any(|w| matches!(w, [a, b] if a.1 > b.0)) {
        return Err(Error::Zip("entries overlap".into()));
    }
    Ok(entries)
}

/// Finds the end-of-central-directory record: the last signature whose comment runs exactly to the end.
fn find_eocd<R: Read + Seek>(src: &mut R, len: u64) -> Result<(u64, Vec<u8>)> {
    if len < EOCD_LEN as u64 {
        return Err(Error::Zip("too short to be a ZIP archive".into()));
    }
    let tail_len = len.min(EOCD_LEN as u64 + 0xFFFF);
    let tail_start = len - tail_len;
    src.seek(SeekFrom::Start(tail_start))?;
    let mut tail = vec![0u8; tail_len as usize];
    src.read_exact(&mut tail)?;
    let last = tail.len() - EOCD_LEN;
    for i in (0..=last).rev() {
        let Some(rec) = tail.get(i..) else { continue };
        let mut r = ByteReader::new(rec);
        if r.u32()? != EOCD_SIG {
            continue;
        }
        r.take(16)?;
        let comment_len = usize::from(r.u16()?);
        if comment_len == rec.len() - EOCD_LEN {
            return Ok((tail_start + i as u64, rec.get(..EOCD_LEN).unwrap_or_default().to_vec()));
        }
    }
    Err(Error::Zip("no end-of-central-directory record (not a ZIP archive, or truncated)".into()))
}

struct Zip64 {
    count: u64,
    cd_size: u64,
    cd_offset: u64,
    record_pos: u64,
}

fn read_zip64<R: Read + Seek>(src: &mut R, eocd_pos: u64) -> Result<Option<Zip64>> {
    let Some(loc_pos) = eocd_pos.checked_sub(ZIP64_LOCATOR_LEN) else { return Ok(None) };
    src.seek(SeekFrom::Start(loc_pos))?;
    let mut loc = [0u8; ZIP64_LOCATOR_LEN as usize];
    src.read_exact(&mut loc)?;
    let mut r = ByteReader::new(&loc);
    if r.u32()? != ZIP64_LOCATOR_SIG {
        return Ok(None);
    }
    let _disk = r.u32()?;
    let record_pos = r.u64()?;
    if record_pos.checked_add(ZIP64_EOCD_LEN).is_none_or(|end| end > loc_pos) {
        return Err(Error::Zip("the ZIP64 end record lies outside the archive".into()));
    }
    src.seek(SeekFrom::Start(record_pos))?;
    let mut rec = [0u8; ZIP64_EOCD_LEN as usize];
    src.read_exact(&mut rec)?;
    let mut r = ByteReader::new(&rec);
    if r.u32()? != ZIP64_EOCD_SIG {
        return Err(Error::Zip("the ZIP64 end record is missing".into()));
    }
    let _size = r.u64()?;
    let _made = r.u16()?;
    let _needed = r.u16()?;
    let disk = r.u32()?;
    let cd_disk = r.u32()?;
    let _disk_entries = r.u64()?;
    let count = r.u64()?;
    let cd_size = r.u64()?;
    let cd_offset = r.u64()?;
    if disk != 0 || cd_disk != 0 {
        return Err(Error::Zip("multi-disk archives are not supported".into()));
    }
    Ok(Some(Zip64 { count, cd_size, cd_offset, record_pos }))
}

struct RawEntry {
    name: String,
    flags: u16,
    method: u16,
    crc: u32,
    compressed: u64,
    uncompressed: u64,
    offset: u64,
}

fn central_entry(r: &mut ByteReader<'_>) -> Result<RawEntry> {
    if r.u32()? != CENTRAL_HEADER_SIG {
        return Err(Error::Zip("bad central directory record".into()));
    }
    let _made = r.u16()?;
    let _needed = r.u16()?;
    let flags = r.u16()?;
    let method = r.u16()?;
    let _time = r.u16()?;
    let _date = r.u16()?;
    let crc = r.u32()?;
    let mut compressed = u64::from(r.u32()?);
    let mut uncompressed = u64::from(r.u32()?);
    let name_len = usize::from(r.u16()?);
    let extra_len = usize::from(r.u16()?);
    let comment_len = usize::from(r.u16()?);
    let _disk = r.u16()?;
    let _internal = r.u16()?;
    let _external = r.u32()?;
    let mut offset = u64::from(r.u32()?);
    let name = std::str::from_utf8(r.take(name_len)?)
        .map_err(|_| Error::Zip("an entry name is not UTF-8".into()))?
        .to_owned();
    let mut extra = ByteReader::new(r.take(extra_len)?);
    let _comment = r.take(comment_len)?;
    while extra.remaining() >= 4 {
        let id = extra.u16()?;
        let len = usize::from(extra.u16()?);
        let body = extra.take(len)?;
        if id != ZIP64_EXTRA_ID {
            continue;
        }
        let mut z = ByteReader::new(body);
        if uncompressed == U32_MAX {
            uncompressed = z.u64()?;
        }
        if compressed == U32_MAX {
            compressed = z.u64()?;
        }
        if offset == U32_MAX {
            offset = z.u64()?;
        }
    }
    Ok(RawEntry { name, flags, method, crc, compressed, uncompressed, offset })
}

fn local_data_offset<R: Read + Seek>(src: &mut R, offset: u64, name: &str) -> Result<u64> {
    src.seek(SeekFrom::Start(offset))?;
    let mut h = [0u8; LOCAL_HEADER_LEN as usize];
    src.read_exact(&mut h).map_err(|_| Error::Zip(format!("the local header of `{name}` is truncated")))?;
    let mut r = ByteReader::new(&h);
    if r.u32()? != LOCAL_HEADER_SIG {
        return Err(Error::Zip(format!("the local header of `{name}` is missing")));
    }
    let _version = r.u16()?;
    let _flags = r.u16()?;
    let _method = r.u16()?;
    let _time = r.u16()?;
    let _date = r.u16()?;
    let _crc = r.u32()?;
    let _c = r.u32()?;
    let _u = r.u32()?;
    let name_len = u64::from(r.u16()?);
    let extra_len = u64::from(r.u16()?);
    let mut local_name = vec![0u8; name_len as usize];
    src.read_exact(&mut local_name)?;
    if local_name != name.as_bytes() {
        return Err(Error::Zip(format!("the local header of `{name}` names another entry")));
    }
    offset
        .checked_add(LOCAL_HEADER_LEN + name_len + extra_len)
        .ok_or_else(|| Error::Zip("offsets overflow".into()))
}
