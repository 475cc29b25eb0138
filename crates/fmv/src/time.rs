//! Time values: the ST 0601 precision time stamp (microseconds since 1970, no leap seconds) and MPEG-TS clocks
//! (90 kHz PTS/DTS, 27 MHz PCR).

use std::fmt;

/// MISB precision time stamp: microseconds since 1970-01-01T00:00:00Z, leap seconds not counted (POSIX time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrecisionTime(pub u64);

impl PrecisionTime {
    /// Microseconds since the epoch.
    pub fn micros(self) -> u64 {
        self.0
    }
}

impl fmt::Display for PrecisionTime {
    /// RFC 3339 with microseconds, e.g. `2009-01-12T22:08:22.000000Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0 / 1_000_000;
        let micros = self.0 % 1_000_000;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day); Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// A 33-bit presentation or decoding time stamp in 90 kHz ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp90k(pub u64);

impl Timestamp90k {
    /// Seconds (wraps every 2^33 ticks, about 26.5 hours).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 90_000.0
    }
}

/// A program clock reference: 33-bit base at 90 kHz and 9-bit extension at 27 MHz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pcr {
    /// program_clock_reference_base, 90 kHz.
    pub base: u64,
    /// program_clock_reference_extension, 0..300.
    pub extension: u16,
}

impl Pcr {
    /// The clock in 27 MHz ticks.
    pub fn ticks_27mhz(self) -> u64 {
        self.base * 300 + u64::from(self.extension)
    }

    /// Seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.ticks_27mhz() as f64 / 27_000_000.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_time_stamp() {
        // Tag 2 `00 04 60 50 58 4E 01 80` = 2009-01-12 22:08:22Z.
        let t = PrecisionTime(u64::from_be_bytes([0x00, 0x04, 0x60, 0x50, 0x58, 0x4E, 0x01, 0x80]));
        assert_eq!(t.to_string(), "2009-01-12T22:08:22.000000Z");
        assert_eq!(PrecisionTime(0).to_string(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(PrecisionTime(951_782_400_000_001).to_string(), "2000-02-29T00:00:00.000001Z");
    }
}
