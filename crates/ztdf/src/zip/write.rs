//! Streaming writer of a stored-entry ZIP: an entry of unknown size is written as local header, data, data
//! descriptor (64-bit sizes when it reached 4 GiB); a small entry of known size is written in one piece;
//! `finish` writes the central directory, with ZIP64 records when sizes, offsets or counts need them.

use std::io::Write;

use super::{
    CENTRAL_HEADER_SIG, DATA_DESCRIPTOR_SIG, DOS_DATE, DOS_TIME, EOCD_SIG, FLAG_DATA_DESCRIPTOR,
    LOCAL_HEADER_SIG, U32_MAX, VERSION_DEFAULT, VERSION_ZIP64, ZIP64_EOCD_SIG, ZIP64_EXTRA_ID,
    ZIP64_LOCATOR_SIG,
};
use crate::error::{Error, Result};

/// One entry's central-directory facts.
#[derive(Debug)]
struct Written {
    name: String,
    offset: u64,
    size: u64,
    crc: u32,
    flags: u16,
}

/// An entry being streamed.
#[derive(Debug)]
struct Open {
    name: String,
    offset: u64,
    size: u64,
    crc: crc32fast::Hasher,
}

/// Writes a ZIP of stored entries to any [`Write`], tracking offsets itself (no seeking needed).
#[derive(Debug)]
pub struct ZipWriter<W: Write> {
    out: W,
    pos: u64,
    entries: Vec<Written>,
    open: Option<Open>,
}

impl<W: Write> ZipWriter<W> {
    /// Starts a ZIP at the current position of `out` (offsets are relative to it).
    pub fn new(out: W) -> Self {
        Self { out, pos: 0, entries: Vec::new(), open: None }
    }

    /// Bytes written so far.
    pub fn position(&self) -> u64 {
        self.pos
    }

    fn put(&mut self, data: &[u8]) -> Result<()> {
        self.out.write_all(data)?;
        self.pos = self.pos.saturating_add(data.len() as u64);
        Ok(())
    }

    /// Starts an entry whose size is not known yet; data follows through [`ZipWriter::write_data`].
    ///
    /// # Errors
    /// I/O errors, or an entry already open.
    pub fn start_streamed(&mut self, name: &str) -> Result<()> {
        if self.open.is_some() {
            return Err(Error::Config("a ZIP entry is already open".into()));
        }
        let offset = self.pos;
        let header = local_header(name, FLAG_DATA_DESCRIPTOR, 0, 0)?;
        self.put(&header)?;
        self.open = Some(Open { name: name.to_owned(), offset, size: 0, crc: crc32fast::Hasher::new() });
        Ok(())
    }

    /// Appends data to the open entry.
    ///
    /// # Errors
    /// I/O errors, or no entry open.
    pub fn write_data(&mut self, data: &[u8]) -> Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Err(Error::Config("no ZIP entry is open".into()));
        };
        open.crc.update(data);
        open.size = open.size.saturating_add(data.len() as u64);
        self.out.write_all(data)?;
        self.pos = self.pos.saturating_add(data.len() as u64);
        Ok(())
    }

    /// Appends data whose CRC-32 the caller already computed (`crc32fast::hash(data)`, typically on another
    /// thread while the bytes were hot in cache); the entry's CRC is combined from it, so the data is not read
    /// again.
    ///
    /// # Errors
    /// I/O errors, or no entry open.
    pub(crate) fn write_data_with_crc(&mut self, data: &[u8], crc: u32) -> Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Err(Error::Config("no ZIP entry is open".into()));
        };
        let len = data.len() as u64;
        open.crc.combine(&crc32fast::Hasher::new_with_initial_len(crc, len));
        open.size = open.size.saturating_add(len);
        self.out.write_all(data)?;
        self.pos = self.pos.saturating_add(len);
        Ok(())
    }

    /// Appends `len` bytes to the open entry that `fill` writes straight into the sink, at the sink's current
    /// position, returning their CRC-32 (the in-memory encryptor fills them from several threads at once).
    /// `fill` must write exactly `len` bytes and leave the sink positioned after them.
    ///
    /// # Errors
    /// Errors of `fill`, or no entry open.
    pub(crate) fn write_data_in_sink(
        &mut self,
        len: u64,
        fill: impl FnOnce(&mut W) -> Result<u32>,
    ) -> Result<()> {
        let Some(open) = self.open.as_mut() else {
            return Err(Error::Config("no ZIP entry is open".into()));
        };
        let crc = fill(&mut self.out)?;
        open.crc.combine(&crc32fast::Hasher::new_with_initial_len(crc, len));
        open.size = open.size.saturating_add(len);
        self.pos = self.pos.saturating_add(len);
        Ok(())
    }

    /// Closes the open entry with its data descriptor.
    ///
    /// # Errors
    /// I/O errors, or no entry open.
    pub fn finish_streamed(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Err(Error::Config("no ZIP entry is open".into()));
        };
        let crc = open.crc.finalize();
        let mut d = Vec::with_capacity(24);
        d.extend_from_slice(&DATA_DESCRIPTOR_SIG.to_le_bytes());
        d.extend_from_slice(&crc.to_le_bytes());
        if open.size >= U32_MAX {
            d.extend_from_slice(&open.size.to_le_bytes());
            d.extend_from_slice(&open.size.to_le_bytes());
        } else {
            d.extend_from_slice(&(open.size as u32).to_le_bytes());
            d.extend_from_slice(&(open.size as u32).to_le_bytes());
        }
        self.put(&d)?;
        self.entries.push(Written {
            name: open.name,
            offset: open.offset,
            size: open.size,
            crc,
            flags: FLAG_DATA_DESCRIPTOR,
        });
        Ok(())
    }

    /// Writes a whole entry of known content.
    ///
    /// # Errors
    /// I/O errors, an entry still open, or content of 4 GiB or more.
    pub fn add_entry(&mut self, name: &str, data: &[u8]) -> Result<()> {
        if self.open.is_some() {
            return Err(Error::Config("a ZIP entry is already open".into()));
        }
        let size = data.len() as u64;
        if size >= U32_MAX {
            return Err(Error::Config("a whole entry must be smaller than 4 GiB".into()));
        }
        let crc = crc32fast::hash(data);
        let offset = self.pos;
        let header = local_header(name, 0, crc, size as u32)?;
        self.put(&header)?;
        self.put(data)?;
        self.entries.push(Written { name: name.to_owned(), offset, size, crc, flags: 0 });
        Ok(())
    }

    /// Writes the central directory and end records; returns the sink and the total size.
    ///
    /// # Errors
    /// I/O errors, or an entry still open.
    pub fn finish(mut self) -> Result<(W, u64)> {
        if self.open.is_some() {
            return Err(Error::Config("a ZIP entry is still open".into()));
        }
        let cd_offset = self.pos;
        let entries = std::mem::take(&mut self.entries);
        for e in &entries {
            let rec = central_header(e)?;
            self.put(&rec)?;
        }
        let cd_size = self.pos - cd_offset;
        let count = entries.len() as u64;
        let need64 = cd_offset >= U32_MAX || cd_size >= U32_MAX || count >= 0xFFFF;
        if need64 {
            let z64_offset = self.pos;
            let mut r = Vec::with_capacity(76);
            r.extend_from_slice(&ZIP64_EOCD_SIG.to_le_bytes());
            r.extend_from_slice(&44u64.to_le_bytes());
            r.extend_from_slice(&VERSION_ZIP64.to_le_bytes());
            r.extend_from_slice(&VERSION_ZIP64.to_le_bytes());
            r.extend_from_slice(&0u32.to_le_bytes());
            r.extend_from_slice(&0u32.to_le_bytes());
            r.extend_from_slice(&count.to_le_bytes());
            r.extend_from_slice(&count.to_le_bytes());
            r.extend_from_slice(&cd_size.to_le_bytes());
            r.extend_from_slice(&cd_offset.to_le_bytes());
            r.extend_from_slice(&ZIP64_LOCATOR_SIG.to_le_bytes());
            r.extend_from_slice(&0u32.to_le_bytes());
            r.extend_from_slice(&z64_offset.to_le_bytes());
            r.extend_from_slice(&1u32.to_le_bytes());
            self.put(&r)?;
        }
        let mut r = Vec::with_capacity(22);
        r.extend_from_slice(&EOCD_SIG.to_le_bytes());
        r.extend_from_slice(&0u16.to_le_bytes());
        r.extend_from_slice(&0u16.to_le_bytes());
        let c16 = if need64 { 0xFFFF } else { count as u16 };
        r.extend_from_slice(&c16.to_le_bytes());
        r.extend_from_slice(&c16.to_le_bytes());
        r.extend_from_slice(&(if need64 { U32_MAX as u32 } else { cd_size as u32 }).to_le_bytes());
        r.extend_from_slice(&(if need64 { U32_MAX as u32 } else { cd_offset as u32 }).to_le_bytes());
        r.extend_from_slice(&0u16.to_le_bytes());
        self.put(&r)?;
        self.out.flush()?;
        Ok((self.out, self.pos))
    }
}

fn name_len(name: &str) -> Result<u16> {
    u16::try_from(name.len()).map_err(|_| Error::Config("a ZIP entry name is too long".into()))
}

fn local_header(name: &str, flags: u16, crc: u32, size: u32) -> Result<Vec<u8>> {
    let mut h = Vec::with_capacity(30 + name.len());
    h.extend_from_slice(&LOCAL_HEADER_SIG.to_le_bytes());
    // Version 4.5 when the entry may grow past 4 GiB (streamed): readers then accept 64-bit descriptors.
    let version = if flags & FLAG_DATA_DESCRIPTOR != 0 { VERSION_ZIP64 } else { VERSION_DEFAULT };
    h.extend_from_slice(&version.to_le_bytes());
    h.extend_from_slice(&flags.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // method: stored
    h.extend_from_slice(&DOS_TIME.to_le_bytes());
    h.extend_from_slice(&DOS_DATE.to_le_bytes());
    h.extend_from_slice(&crc.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(&name_len(name)?.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(name.as_bytes());
    Ok(h)
}

fn central_header(e: &Written) -> Result<Vec<u8>> {
    let big_size = e.size >= U32_MAX;
    let big_offset = e.offset >= U32_MAX;
    let mut extra = Vec::new();
    if big_size || big_offset {
        let mut body = Vec::new();
        if big_size {
            body.extend_from_slice(&e.size.to_le_bytes());
            body.extend_from_slice(&e.size.to_le_bytes());
        }
        if big_offset {
            body.extend_from_slice(&e.offset.to_le_bytes());
        }
        extra.extend_from_slice(&ZIP64_EXTRA_ID.to_le_bytes());
        extra.extend_from_slice(&(body.len() as u16).to_le_bytes());
        extra.extend_from_slice(&body);
    }
    let version = if big_size || big_offset || e.flags & FLAG_DATA_DESCRIPTOR != 0 {
        VERSION_ZIP64
    } else {
        VERSION_DEFAULT
    };
    let size32 = if big_size { U32_MAX as u32 } else { e.size as u32 };
    let mut h = Vec::with_capacity(46 + e.name.len() + extra.len());
    h.extend_from_slice(&CENTRAL_HEADER_SIG.to_le_bytes());
    h.extend_from_slice(&VERSION_ZIP64.to_le_bytes());
    h.extend_from_slice(&version.to_le_bytes());
    h.extend_from_slice(&e.flags.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&DOS_TIME.to_le_bytes());
    h.extend_from_slice(&DOS_DATE.to_le_bytes());
    h.extend_from_slice(&e.crc.to_le_bytes());
    h.extend_from_slice(&size32.to_le_bytes());
    h.extend_from_slice(&size32.to_le_bytes());
    h.extend_from_slice(&name_len(&e.name)?.to_le_bytes());
    h.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // comment
    h.extend_from_slice(&0u16.to_le_bytes()); // disk
    h.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    h.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    h.extend_from_slice(&(if big_offset { U32_MAX as u32 } else { e.offset as u32 }).to_le_bytes());
    h.extend_from_slice(e.name.as_bytes());
    h.extend_from_slice(&extra);
    Ok(h)
}
