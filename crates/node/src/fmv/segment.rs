//! Cutting a recorded stream into segments. Pure: the caller passes the time and the relayed packets (whole
//! 188-byte TS packets, as the ring carries them) and gets whole segments back.
//!
//! A segment is due `period` after its first packet arrived. It is then cut before the next packet that starts
//! a PAT (PID 0 with payload_unit_start), so each segment after the first begins with the tables a player needs;
//! a stream without a PAT within [`PAT_GRACE`] past the deadline is cut at the next datagram boundary, and a
//! silent stream's open segment is closed [`PAT_GRACE`] past its deadline by [`Segmenter::poll`].
//!
//! INVARIANT: every byte handed in comes out in exactly one segment, in order, and every cut is on a packet
//! boundary: the concatenation of the segments is the relayed byte stream.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

/// TS packet size.
const TS_PACKET: usize = 188;
/// How long past the deadline a segment waits for a PAT before it is cut anywhere.
pub const PAT_GRACE: Duration = Duration::from_secs(1);
/// The largest segment kept in memory: a segment is cut early, at a packet boundary, rather than grow past it.
pub const MAX_SEGMENT_BYTES: usize = 64 * 1024 * 1024;

/// A finished segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Wall time its first packet arrived.
    pub start: OffsetDateTime,
    /// Wall time it was cut.
    pub end: OffsetDateTime,
    /// Its packets.
    pub bytes: Vec<u8>,
    /// Datagrams the recorder lost to the ring while this segment was open (the segment has a gap).
    pub drops: u64,
}

impl Segment {
    /// TS packets in it.
    pub fn packets(&self) -> u64 {
        (self.bytes.len() / TS_PACKET) as u64
    }
}

/// The open segment.
#[derive(Debug)]
struct Open {
    start: OffsetDateTime,
    started: Instant,
    bytes: Vec<u8>,
    drops: u64,
}

/// Cuts a stream into segments of `period` of wall time.
#[derive(Debug)]
pub struct Segmenter {
    period: Duration,
    open: Option<Open>,
    /// Drops seen while no segment was open: they belong to the next one.
    pending_drops: u64,
}

impl Segmenter {
    /// A segmenter cutting every `period`.
    pub fn new(period: Duration) -> Segmenter {
        Segmenter { period, open: None, pending_drops: 0 }
    }

    /// True while a segment is open.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Takes a datagram of whole packets received at `now` (`wall` for the names); returns the segment it closed.
    pub fn handle_packets(&mut self, now: Instant, wall: OffsetDateTime, packets: &[u8]) -> Option<Segment> {
        let Some(open) = self.open.as_mut() else {
            self.start(now, wall, packets);
            return None;
        };
        let due = now.saturating_duration_since(open.started) >= self.period;
        let cut_at = if due {
            match pat_offset(packets) {
                Some(at) => Some(at),
                None if now.saturating_duration_since(open.started) >= self.period + PAT_GRACE => Some(0),
                None => None,
            }
        } else if open.bytes.len().saturating_add(packets.len()) > MAX_SEGMENT_BYTES {
            Some(0)
        } else {
            None
        };
        let Some(at) = cut_at else {
            open.bytes.extend_from_slice(packets);
            return None;
        };
        let (head, tail) = packets.split_at(at.min(packets.len()));
        open.bytes.extend_from_slice(head);
        let closed = self.close(wall);
        if !tail.is_empty() {
            self.start(now, wall, tail);
        }
        closed
    }

    /// Counts datagrams the recorder lost to the ring (they are missing from the open or the next segment).
    pub fn handle_drops(&mut self, n: u64) {
        match self.open.as_mut() {
            Some(open) => open.drops = open.drops.saturating_add(n),
            None => self.pending_drops = self.pending_drops.saturating_add(n),
        }
    }

    /// Closes the open segment when the stream fell silent past its deadline and grace.
    pub fn poll(&mut self, now: Instant, wall: OffsetDateTime) -> Option<Segment> {
        let open = self.open.as_ref()?;
        if now.saturating_duration_since(open.started) >= self.period + PAT_GRACE {
            return self.close(wall);
        }
        None
    }

    /// Closes the open segment, whatever its age (at shutdown or when recording stops).
    pub fn flush(&mut self, wall: OffsetDateTime) -> Option<Segment> {
        self.close(wall)
    }

    fn start(&mut self, now: Instant, wall: OffsetDateTime, packets: &[u8]) {
        let drops = std::mem::take(&mut self.pending_drops);
        self.open = Some(Open { start: wall, started: now, bytes: packets.to_vec(), drops });
    }

    fn close(&mut self, wall: OffsetDateTime) -> Option<Segment> {
        let open = self.open.take()?;
        if open.bytes.is_empty() {
            self.pending_drops = self.pending_drops.saturating_add(open.drops);
            return None;
        }
        Some(Segment { start: open.start, end: wall, bytes: open.bytes, drops: open.drops })
    }
}

/// The offset of the first packet that starts a PAT section (PID 0, payload_unit_start set).
fn pat_offset(packets: &[u8]) -> Option<usize> {
    packets
        .chunks_exact(TS_PACKET)
        .position(|p| matches!(p, [0x47, b1, 0x00, ..] if b1 & 0x40 != 0 && b1 & 0x1f == 0))
        .map(|i| i * TS_PACKET)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pid: u16, start: bool, fill: u8) -> Vec<u8> {
        let mut p = vec![fill; TS_PACKET];
        p[0] = 0x47;
        p[1] = (if start { 0x40 } else { 0 }) | ((pid >> 8) as u8 & 0x1f);
        p[2] = pid as u8;
        p
    }

    #[test]
    fn segments_cut_at_a_pat_after_the_deadline_and_concatenate_to_the_input() {
        let t0 = Instant::now();
        let w0 = OffsetDateTime::UNIX_EPOCH;
        let mut s = Segmenter::new(Duration::from_secs(1));
        let mut input = Vec::new();
        let mut out = Vec::new();
        for i in 0..40u64 {
            // A PAT every 5th datagram, 100 ms apart.
            let mut d = packet(256, false, i as u8);
            d.extend(packet(0, i % 5 == 0, i as u8));
            input.extend_from_slice(&d);
            let at = Duration::from_millis(i * 100);
            out.extend(s.handle_packets(t0 + at, w0 + at, &d));
        }
        out.extend(s.flush(w0 + Duration::from_secs(5)));
        assert!(out.len() >= 3, "{}", out.len());
        let joined: Vec<u8> = out.iter().flat_map(|s| s.bytes.clone()).collect();
        assert_eq!(joined, input);
        for seg in &out[1..] {
            assert_eq!(pat_offset(&seg.bytes), Some(0), "each later segment starts with a PAT");
            assert_eq!(seg.bytes.len() % TS_PACKET, 0);
        }
        assert!(out.windows(2).all(|w| w[0].start < w[1].start));
    }

    #[test]
    fn without_a_pat_the_cut_waits_the_grace_then_lands_on_a_datagram_boundary() {
        let t0 = Instant::now();
        let w0 = OffsetDateTime::UNIX_EPOCH;
        let mut s = Segmenter::new(Duration::from_secs(1));
        let d = packet(256, true, 1);
        assert!(s.handle_packets(t0, w0, &d).is_none());
        assert!(s.handle_packets(t0 + Duration::from_millis(1500), w0, &d).is_none());
        let seg = s.handle_packets(t0 + Duration::from_millis(2100), w0, &d).unwrap();
        assert_eq!(seg.packets(), 2);
        assert!(s.is_open());
    }

    #[test]
    fn a_silent_stream_closes_its_segment_and_drops_are_counted() {
        let t0 = Instant::now();
        let w0 = OffsetDateTime::UNIX_EPOCH;
        let mut s = Segmenter::new(Duration::from_secs(2));
        s.handle_drops(3);
        s.handle_packets(t0, w0, &packet(256, false, 0));
        s.handle_drops(2);
        assert!(s.poll(t0 + Duration::from_secs(2), w0).is_none());
        let seg = s.poll(t0 + Duration::from_secs(3), w0).unwrap();
        assert_eq!((seg.packets(), seg.drops), (1, 5));
        assert!(s.flush(w0).is_none());
    }
}
