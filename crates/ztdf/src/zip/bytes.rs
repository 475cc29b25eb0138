//! A bounded little-endian reader over an untrusted byte slice: every read checks the remaining length and
//! returns an error instead of panicking or indexing out of range.

use crate::error::{Error, Result};

/// Cursor over untrusted bytes.
pub(crate) struct ByteReader<'a> {
    data: &'a [u8],
}

impl<'a> ByteReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.data.len() {
            return Err(Error::Zip("a record is truncated".into()));
        }
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        Ok(head)
    }

    pub(crate) fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes(b.try_into().map_err(|_| Error::Zip("a record is truncated".into()))?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().map_err(|_| Error::Zip("a record is truncated".into()))?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| Error::Zip("a record is truncated".into()))?))
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len()
    }
}
