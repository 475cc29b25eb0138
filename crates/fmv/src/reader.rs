//! A bounded cursor over untrusted bytes (the shape of rustls's `codec::Reader`).
//!
//! Every parser in this crate reads through a [`Reader`]: it never indexes the buffer, every read is checked
//! against what is left, and a caller that must consume everything asks [`Reader::expect_empty`]-style
//! questions through [`Reader::is_empty`].

/// A read position inside a borrowed byte slice. Reads return `None` past the end and consume nothing then.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `n` bytes, or `None` (consuming nothing) when fewer are left.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// A reader over the next `n` bytes, which are consumed from this one.
    pub(crate) fn sub(&mut self, n: usize) -> Option<Reader<'a>> {
        self.take(n).map(Reader::new)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).ok()
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (first, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(*first)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.array::<2>().map(u16::from_be_bytes)
    }

    /// Everything left; the reader is empty afterwards.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// The bytes left, without consuming them.
    pub(crate) fn peek_rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }
}

/// A big-endian unsigned integer of 1 to 8 bytes (MISB allows truncated integers in several tags).
pub(crate) fn be_uint(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// A big-endian two's-complement integer of 1 to 8 bytes.
pub(crate) fn be_int(bytes: &[u8]) -> Option<i64> {
    let unsigned = be_uint(bytes)?;
    let bits = u32::try_from(bytes.len()).ok()? * 8;
    if bits == 64 {
        return Some(unsigned as i64);
    }
    let shift = 64 - bits;
    // Sign-extend: move the value's sign bit to bit 63, then shift back arithmetically.
    Some(((unsigned << shift) as i64) >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.u8(), Some(3));
        assert!(r.is_empty());
        assert_eq!(r.take(1), None);
    }

    #[test]
    fn integers_sign_extend() {
        assert_eq!(be_int(&[0x80, 0x00]), Some(-32768));
        assert_eq!(be_int(&[0x7F, 0xFF]), Some(32767));
        assert_eq!(be_int(&[0xFF]), Some(-1));
        assert_eq!(be_uint(&[0xFF, 0xFF]), Some(65535));
        assert_eq!(be_uint(&[]), None);
        assert_eq!(be_uint(&[0; 9]), None);
    }
}
