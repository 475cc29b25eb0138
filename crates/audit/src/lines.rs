//! A bounded line reader: splits a log into `\n`-terminated lines without ever holding more than
//! [`MAX_LINE`] bytes of one line, and says where each line starts.

use std::io::{self, BufRead};

/// Longest line (without its `\n`) a log may hold. Do not lower it: logs written under it must stay readable.
/// The writer refuses a record whose line would be longer.
pub const MAX_LINE: usize = 64 * 1024;

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of the line's first byte.
    pub offset: u64,
    /// The line without its `\n`; empty when [`RawLine::too_long`].
    pub bytes: Vec<u8>,
    /// Length of the line without its `\n`.
    pub len: u64,
    /// The line was longer than the limit; its bytes were skipped, not kept.
    pub too_long: bool,
    /// The line ended with `\n` (false only for a last line cut short, e.g. by a crash mid-append).
    pub terminated: bool,
}

/// Iterates over the lines of a reader.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    limit: usize,
    offset: u64,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Lines of `inner`, at most [`MAX_LINE`] bytes each.
    pub fn new(inner: R) -> Self {
        Self::with_limit(inner, MAX_LINE)
    }

    /// Lines of `inner`, at most `limit` bytes each.
    pub fn with_limit(inner: R, limit: usize) -> Self {
        Self { inner, limit, offset: 0, number: 0 }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next line, `None` at the end.
    ///
    /// # Errors
    /// The reader's I/O errors.
    pub fn next_line(&mut self) -> io::Result<Option<RawLine>> {
        let offset = self.offset;
        let mut bytes = Vec::new();
        let mut len: u64 = 0;
        let mut too_long = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if len == 0 {
                    return Ok(None);
                }
                self.number += 1;
                return Ok(Some(RawLine {
                    number: self.number,
                    offset,
                    bytes,
                    len,
                    too_long,
                    terminated: false,
                }));
            }
            let newline = avail.iter().position(|&b| b == b'\n');
            let take = newline.unwrap_or(avail.len());
            let chunk = avail.get(..take).unwrap_or_default();
            if !too_long {
                if bytes.len().saturating_add(take) > self.limit {
                    too_long = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(chunk);
                }
            }
            len += take as u64;
            let consumed = take + usize::from(newline.is_some());
            self.inner.consume(consumed);
            self.offset += consumed as u64;
            if newline.is_some() {
                self.number += 1;
                return Ok(Some(RawLine {
                    number: self.number,
                    offset,
                    bytes,
                    len,
                    too_long,
                    terminated: true,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8], limit: usize) -> Vec<RawLine> {
        let mut r = LineReader::with_limit(io::BufReader::with_capacity(3, input), limit);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push(l);
        }
        out
    }

    #[test]
    fn splits_with_offsets_and_a_torn_tail() {
        let lines = all(b"ab\n\ncdef\ngh", 10);
        let got: Vec<_> = lines.iter().map(|l| (l.number, l.offset, l.bytes.clone(), l.terminated)).collect();
        assert_eq!(
            got,
            vec![
                (1, 0, b"ab".to_vec(), true),
                (2, 3, b"".to_vec(), true),
                (3, 4, b"cdef".to_vec(), true),
                (4, 9, b"gh".to_vec(), false)
            ]
        );
    }

    #[test]
    fn a_long_line_is_flagged_not_kept() {
        let lines = all(b"0123456789abc\nok\n", 5);
        assert!(lines[0].too_long && lines[0].bytes.is_empty() && lines[0].len == 13);
        assert_eq!((lines[1].offset, lines[1].bytes.as_slice()), (14, &b"ok"[..]));
    }
}
