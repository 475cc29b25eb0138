//! Continuity-counter tracking for every PID: a fixed 8 KiB table, so memory does not grow with the input.
//!
//! Rules (ISO/IEC 13818-1 2.4.3.3): the counter increments by one, modulo 16, on each packet with a payload;
//! packets without a payload repeat it; one duplicate of a packet (same counter, with payload) may follow it;
//! a discontinuity_indicator in the adaptation field allows any value.

use crate::ts::packet::{Packet, Pid};

/// What a packet's continuity counter says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuity {
    /// The first packet seen on the PID, or one after a signalled discontinuity.
    Start,
    /// The expected next counter (or a packet without payload).
    InOrder,
    /// A duplicate of the previous packet: its payload must be ignored.
    Duplicate,
    /// Packets were lost or reordered.
    Error {
        /// The counter expected.
        expected: u8,
        /// The counter found.
        found: u8,
    },
}

const UNSEEN: u8 = 0xFF;
const DUPLICATE_SEEN: u8 = 0x10;

/// Per-PID continuity state: low nibble the last counter, bit 4 set once a duplicate was seen.
#[derive(Clone)]
pub struct ContinuityTracker {
    state: Box<[u8; 8192]>,
}

impl std::fmt::Debug for ContinuityTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seen = self.state.iter().filter(|s| **s != UNSEEN).count();
        f.debug_struct("ContinuityTracker").field("pids_seen", &seen).finish()
    }
}

impl Default for ContinuityTracker {
    fn default() -> Self {
        Self { state: Box::new([UNSEEN; 8192]) }
    }
}

impl ContinuityTracker {
    /// A tracker that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks `packet` against the PID's last counter and records it. Null packets are always in order.
    pub fn observe(&mut self, packet: &Packet<'_>) -> Continuity {
        let header = &packet.header;
        if header.pid == Pid::NULL {
            return Continuity::InOrder;
        }
        let Some(slot) = self.state.get_mut(usize::from(header.pid.value())) else {
            return Continuity::InOrder;
        };
        let found = header.continuity_counter;
        let previous = *slot;
        if previous == UNSEEN || packet.discontinuity() {
            *slot = found;
            return Continuity::Start;
        }
        let last = previous & 0x0F;
        if !header.has_payload {
            // The counter does not advance without a payload; a mismatch here is tolerated, not tracked.
            return Continuity::InOrder;
        }
        let expected = (last + 1) & 0x0F;
        if found == expected {
            *slot = found;
            Continuity::InOrder
        } else if found == last && previous & DUPLICATE_SEEN == 0 {
            *slot = last | DUPLICATE_SEEN;
            Continuity::Duplicate
        } else {
            *slot = found;
            Continuity::Error { expected, found }
        }
    }

    /// Forgets every PID (e.g. after the input was switched to another source).
    pub fn reset(&mut self) {
        self.state.fill(UNSEEN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts::packet::{PACKET_SIZE, SYNC_BYTE};

    fn bytes(cc: u8, payload: bool, discontinuity: bool) -> Vec<u8> {
        let afc = if payload { 0x30 } else { 0x20 };
        let mut p = vec![SYNC_BYTE, 0x01, 0x00, afc | cc, if payload { 1 } else { 183 }];
        p.push(if discontinuity { 0x80 } else { 0 });
        p.resize(PACKET_SIZE, 0xFF);
        p
    }

    fn run(seq: &[(u8, bool, bool)]) -> Vec<Continuity> {
        let mut t = ContinuityTracker::new();
        seq.iter()
            .map(|(cc, payload, disc)| {
                let b = bytes(*cc, *payload, *disc);
                t.observe(&Packet::parse(&b).unwrap())
            })
            .collect()
    }

    #[test]
    fn sequence() {
        use Continuity::*;
        let got = run(&[
            (14, true, false),
            (15, true, false),
            (0, true, false),
            (0, true, false),
            (0, true, false),
            (0, false, false),
            (3, true, false),
            (9, true, true),
            (10, true, false),
        ]);
        assert_eq!(
            got,
            [
                Start,
                InOrder,
                InOrder,
                Duplicate,
                Error { expected: 1, found: 0 },
                InOrder,
                Error { expected: 1, found: 3 },
                Start,
                InOrder
            ]
        );
    }
}
