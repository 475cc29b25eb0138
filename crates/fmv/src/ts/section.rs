//! Reassembles PSI sections from TS payloads (pointer_field, sections spanning packets, several sections in one
//! packet, 0xFF stuffing). Bounded: a section longer than the limit is dropped with an error.

use crate::error::PsiError;

/// The longest PAT/PMT section: 3 header bytes + section_length ≤ 1021. Do not change: ISO/IEC 13818-1.
pub const MAX_PSI_SECTION: usize = 1024;

/// Section reassembly for one PID.
#[derive(Debug, Clone, Default)]
pub struct SectionAssembler {
    buf: Vec<u8>,
    /// Whether `buf` holds the start of a section still waiting for bytes.
    open: bool,
}

impl SectionAssembler {
    /// An assembler with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one packet's payload. `emit` receives each complete section (header through CRC) or an error.
    pub fn push(&mut self, unit_start: bool, payload: &[u8], emit: &mut impl FnMut(Result<&[u8], PsiError>)) {
        let mut rest = payload;
        if unit_start {
            let Some((&pointer, after)) = rest.split_first() else {
                return;
            };
            let (tail, start) = after.split_at_checked(usize::from(pointer)).unwrap_or((after, &[]));
            if self.open {
                self.extend(tail, emit);
                if self.open {
                    // A new section starts but the previous one never completed: packets were lost.
                    self.reset();
                    emit(Err(PsiError::Incomplete));
                }
            }
            rest = start;
            while let Some(&table_id) = rest.first() {
                if table_id == 0xFF {
                    break; // stuffing to the end of the packet
                }
                self.open = true;
                rest = self.extend(rest, emit);
                if self.open {
                    break;
                }
            }
        } else if self.open {
            self.extend(rest, emit);
        }
    }

    /// Forgets a partial section (after a continuity error).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.open = false;
    }

    /// Appends bytes to the open section; emits it once complete and returns the bytes not used.
    fn extend<'p>(&mut self, bytes: &'p [u8], emit: &mut impl FnMut(Result<&[u8], PsiError>)) -> &'p [u8] {
        let mut bytes = bytes;
        if self.buf.len() < 3 {
            let (take, rest) = bytes.split_at_checked(3 - self.buf.len()).unwrap_or((bytes, &[]));
            self.buf.extend_from_slice(take);
            bytes = rest;
        }
        let Some(total) = self.total_len() else {
            return bytes; // still waiting for the 3-byte header; `bytes` is empty
        };
        if total > MAX_PSI_SECTION {
            self.reset();
            emit(Err(PsiError::TooLong(total - 3)));
            return &[];
        }
        let (take, rest) =
            bytes.split_at_checked(total.saturating_sub(self.buf.len())).unwrap_or((bytes, &[]));
        self.buf.extend_from_slice(take);
        if self.buf.len() >= total {
            emit(Ok(&self.buf));
            self.reset();
        }
        rest
    }

    fn total_len(&self) -> Option<usize> {
        match self.buf.as_slice() {
            [_, hi, lo, ..] => Some(3 + (usize::from(*hi & 0x0F) << 8 | usize::from(*lo))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(a: &mut SectionAssembler, unit_start: bool, payload: &[u8]) -> Vec<Result<Vec<u8>, PsiError>> {
        let mut out = Vec::new();
        a.push(unit_start, payload, &mut |r| out.push(r.map(<[u8]>::to_vec)));
        out
    }

    fn section(len: usize, fill: u8) -> Vec<u8> {
        let mut s = vec![0x02, 0xB0 | (len >> 8) as u8, len as u8];
        s.resize(3 + len, fill);
        s
    }

    #[test]
    fn two_sections_in_one_packet_then_stuffing() {
        let mut payload = vec![0];
        payload.extend(section(5, 1));
        payload.extend(section(4, 2));
        payload.extend([0xFF; 20]);
        let got = collect(&mut SectionAssembler::new(), true, &payload);
        assert_eq!(got, [Ok(section(5, 1)), Ok(section(4, 2))]);
    }

    #[test]
    fn section_spanning_packets_and_pointer_field() {
        let s1 = section(300, 7);
        let s2 = section(2, 9);
        let mut a = SectionAssembler::new();
        let mut p1 = vec![0];
        p1.extend(&s1[..180]);
        assert!(collect(&mut a, true, &p1).is_empty());
        let mut p2 = vec![(s1.len() - 180) as u8];
        p2.extend(&s1[180..]);
        p2.extend(&s2);
        assert_eq!(collect(&mut a, true, &p2), [Ok(s1), Ok(s2)]);
    }

    #[test]
    fn header_split_across_packets() {
        let s = section(10, 3);
        let mut a = SectionAssembler::new();
        let mut p1 = vec![0; 1];
        p1.extend(&s[..2]);
        assert!(collect(&mut a, true, &p1).is_empty());
        assert_eq!(collect(&mut a, false, &s[2..]), [Ok(s)]);
    }

    #[test]
    fn lost_continuation_and_oversized() {
        let mut a = SectionAssembler::new();
        let mut p1 = vec![0];
        p1.extend(&section(300, 1)[..100]);
        collect(&mut a, true, &p1);
        let mut p2 = vec![0];
        p2.extend(section(1, 5));
        assert_eq!(collect(&mut a, true, &p2), [Err(PsiError::Incomplete), Ok(section(1, 5))]);
        let big = [0, 0x02, 0xBF, 0xFF, 0, 0];
        assert_eq!(collect(&mut a, true, &big), [Err(PsiError::TooLong(0xFFF))]);
    }
}
