//! Cuts an arbitrary byte stream (file reads, UDP datagrams, SRT messages) into 188-byte packets, finding and
//! keeping sync: it locks on a 0x47 that repeats 188 and 376 bytes later, and after a lost sync it skips
//! (and reports) garbage until it locks again. Bounded: it never holds more than a few packets.

use crate::ts::packet::{PACKET_SIZE, SYNC_BYTE};

/// Bytes the framer buffers at most.
const CAPACITY: usize = PACKET_SIZE * 8;
/// Bytes needed to confirm a lock: the candidate and two more sync bytes.
const CONFIRM: usize = 2 * PACKET_SIZE + 1;

/// What the framer produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framed<'a> {
    /// One 188-byte packet (its first byte is 0x47).
    Packet(&'a [u8]),
    /// Bytes discarded while looking for sync.
    Skipped(usize),
}

/// Packet framing state.
#[derive(Debug, Clone)]
pub struct Framer {
    buf: Vec<u8>,
    locked: bool,
}

impl Default for Framer {
    fn default() -> Self {
        Self { buf: Vec::with_capacity(CAPACITY), locked: false }
    }
}

impl Framer {
    /// A framer that has not locked yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the framer is locked on packet boundaries.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Feeds bytes; `emit` receives packets and skipped-byte counts in stream order.
    pub fn push(&mut self, mut input: &[u8], emit: &mut impl FnMut(Framed<'_>)) {
        while !input.is_empty() {
            if self.locked && self.buf.is_empty() {
                // Fast path: whole packets straight from the caller's buffer, no copy.
                while let Some((packet, rest)) = input.split_at_checked(PACKET_SIZE)
                    && packet.first() == Some(&SYNC_BYTE)
                {
                    emit(Framed::Packet(packet));
                    input = rest;
                }
                if input.len() < PACKET_SIZE {
                    self.buf.extend_from_slice(input);
                    return;
                }
                self.locked = false;
            }
            let room = CAPACITY.saturating_sub(self.buf.len()).max(1);
            let (take, rest) = input.split_at_checked(room).unwrap_or((input, &[]));
            self.buf.extend_from_slice(take);
            input = rest;
            self.drain(emit);
        }
    }

    /// End of input: emits what can still be framed (a final packet confirmed by fewer sync bytes) and reports
    /// the rest as skipped.
    pub fn finish(&mut self, emit: &mut impl FnMut(Framed<'_>)) {
        self.drain(emit);
        let mut start = 0;
        while let Some(window) = self.buf.get(start..start + PACKET_SIZE) {
            if window.first() == Some(&SYNC_BYTE) {
                if start > 0 {
                    emit(Framed::Skipped(start));
                }
                emit(Framed::Packet(window));
                self.buf.drain(..start + PACKET_SIZE);
                start = 0;
            } else {
                start += 1;
            }
        }
        if !self.buf.is_empty() {
            emit(Framed::Skipped(self.buf.len()));
            self.buf.clear();
        }
        self.locked = false;
    }

    fn drain(&mut self, emit: &mut impl FnMut(Framed<'_>)) {
        let mut pos = 0;
        loop {
            let rest = self.buf.get(pos..).unwrap_or(&[]);
            if self.locked {
                match rest.get(..PACKET_SIZE) {
                    Some(packet) if packet.first() == Some(&SYNC_BYTE) => {
                        emit(Framed::Packet(packet));
                        pos += PACKET_SIZE;
                        continue;
                    }
                    Some(_) => self.locked = false,
                    None => break,
                }
            }
            if rest.len() < CONFIRM {
                break;
            }
            let candidate = (0..=rest.len() - CONFIRM).find(|&i| {
                rest.get(i) == Some(&SYNC_BYTE)
                    && rest.get(i + PACKET_SIZE) == Some(&SYNC_BYTE)
                    && rest.get(i + 2 * PACKET_SIZE) == Some(&SYNC_BYTE)
            });
            match candidate {
                Some(i) => {
                    if i > 0 {
                        emit(Framed::Skipped(i));
                    }
                    pos += i;
                    self.locked = true;
                }
                None => {
                    // Keep the tail that could still hold the start of a confirmed packet.
                    let skip = rest.len() + 1 - CONFIRM;
                    emit(Framed::Skipped(skip));
                    pos += skip;
                    break;
                }
            }
        }
        self.buf.drain(..pos.min(self.buf.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let mut p = vec![i as u8; PACKET_SIZE];
                p[0] = SYNC_BYTE;
                p
            })
            .collect()
    }

    fn frame(chunks: &[&[u8]]) -> (Vec<u8>, usize) {
        let mut f = Framer::new();
        let mut out = Vec::new();
        let mut skipped = 0;
        let mut emit = |x: Framed<'_>| match x {
            Framed::Packet(p) => out.push(p[1]),
            Framed::Skipped(n) => skipped += n,
        };
        for c in chunks {
            f.push(c, &mut emit);
        }
        f.finish(&mut emit);
        (out, skipped)
    }

    #[test]
    fn clean_stream_in_odd_chunks() {
        let s = packets(10);
        let chunks: Vec<&[u8]> = s.chunks(100).collect();
        assert_eq!(frame(&chunks), ((0..10).collect(), 0));
    }

    #[test]
    fn garbage_at_start_and_in_the_middle() {
        let mut s = vec![0x47, 1, 2, 3, 0x47];
        let body = packets(10);
        s.extend(&body[..188 * 4]);
        s.extend([9u8; 7]);
        s.extend(&body[188 * 4..]);
        assert_eq!(frame(&[&s]), ((0..10).collect(), 12));
    }

    #[test]
    fn wrong_sync_byte_loses_one_packet() {
        let mut s = packets(10);
        s[188 * 3] = 0x48;
        let (got, skipped) = frame(&[&s]);
        assert_eq!(got, [0, 1, 2, 4, 5, 6, 7, 8, 9]);
        assert_eq!(skipped, 188);
    }

    #[test]
    fn single_packet_and_truncated_tail() {
        let mut s = packets(1);
        s.extend([0x47, 0, 0]);
        assert_eq!(frame(&[&s]), (vec![0], 3));
    }
}
