//! The ST 0601 tag table: every tag's name (1–143) and, for the tags this crate decodes, its encoding and unit.
//! Do not change an encoding without the standard in hand: these are MISB ST 0601's wire formats.

use std::fmt;

/// A physical unit of a decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Degrees of angle (latitude, longitude, heading...).
    Degrees,
    /// Metres.
    Metres,
    /// Kilometres.
    Kilometres,
    /// Metres per second.
    MetresPerSecond,
    /// Degrees per second.
    DegreesPerSecond,
    /// Millibars.
    Millibars,
    /// Degrees Celsius.
    Celsius,
    /// Kilograms.
    Kilograms,
    /// Percent.
    Percent,
    /// Pixels.
    Pixels,
    /// Seconds.
    Seconds,
    /// Revolutions per minute.
    Rpm,
    /// Megahertz.
    Megahertz,
    /// Gigabytes.
    Gigabytes,
}

impl Unit {
    /// The unit's symbol, e.g. `°`, `m`, `m/s`.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Degrees => "°",
            Unit::Metres => "m",
            Unit::Kilometres => "km",
            Unit::MetresPerSecond => "m/s",
            Unit::DegreesPerSecond => "°/s",
            Unit::Millibars => "mbar",
            Unit::Celsius => "°C",
            Unit::Kilograms => "kg",
            Unit::Percent => "%",
            Unit::Pixels => "px",
            Unit::Seconds => "s",
            Unit::Rpm => "rpm",
            Unit::Megahertz => "MHz",
            Unit::Gigabytes => "GB",
        }
    }

    /// A stable ASCII name for machine output, e.g. `deg`, `m`, `m/s`.
    pub fn ascii(self) -> &'static str {
        match self {
            Unit::Degrees => "deg",
            Unit::DegreesPerSecond => "deg/s",
            Unit::Celsius => "degC",
            other => other.symbol(),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// How a tag's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    /// Tag 1: the packet checksum.
    Checksum,
    /// uint64 microseconds since 1970 (see [`crate::PrecisionTime`]).
    Time,
    /// UTF-8 text.
    Text,
    /// An unsigned integer of 1–8 bytes, with an optional unit.
    Uint(Option<Unit>),
    /// A signed integer of 1–8 bytes, with an optional unit.
    Int(Option<Unit>),
    /// An unsigned integer of exactly `len` bytes mapped linearly onto [min, max].
    Unsigned {
        /// Length in bytes.
        len: u8,
        /// The value of 0.
        min: f64,
        /// The value of 2^(8·len) − 1.
        max: f64,
        /// Unit.
        unit: Unit,
    },
    /// A signed integer of exactly `len` bytes mapped onto ±range over ±(2^(8·len−1) − 1); the most negative
    /// integer is the "error" indicator.
    Signed {
        /// Length in bytes.
        len: u8,
        /// The value of 2^(8·len−1) − 1.
        range: f64,
        /// Unit.
        unit: Unit,
    },
    /// IMAPB(min, max, length of the value) — MISB ST 1201.
    Imapb {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// Unit.
        unit: Unit,
    },
    /// Tag 48: a nested ST 0102 security local set.
    Security,
    /// Kept as bytes: nested sets and packs this crate does not decode.
    Raw,
}

/// What this crate knows about one tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TagInfo {
    /// The tag number.
    pub tag: u32,
    /// The standard's name for it.
    pub name: &'static str,
    /// Its encoding.
    pub format: Format,
}

/// Common tag numbers.
pub mod tag {
    #![allow(missing_docs)]
    pub const CHECKSUM: u32 = 1;
    pub const PRECISION_TIME_STAMP: u32 = 2;
    pub const MISSION_ID: u32 = 3;
    pub const PLATFORM_HEADING: u32 = 5;
    pub const PLATFORM_PITCH: u32 = 6;
    pub const PLATFORM_ROLL: u32 = 7;
    pub const SENSOR_LATITUDE: u32 = 13;
    pub const SENSOR_LONGITUDE: u32 = 14;
    pub const SENSOR_TRUE_ALTITUDE: u32 = 15;
    pub const FRAME_CENTER_LATITUDE: u32 = 23;
    pub const FRAME_CENTER_LONGITUDE: u32 = 24;
    pub const FRAME_CENTER_ELEVATION: u32 = 25;
    pub const SECURITY_LOCAL_SET: u32 = 48;
    pub const VERSION: u32 = 65;
    pub const LEAP_SECONDS: u32 = 136;
}

/// The highest tag ST 0601 defines (ST 0601.17).
pub const HIGHEST_DEFINED_TAG: u32 = 143;

const fn u(len: u8, min: f64, max: f64, unit: Unit) -> Format {
    Format::Unsigned { len, min, max, unit }
}
const fn s(len: u8, range: f64, unit: Unit) -> Format {
    Format::Signed { len, range, unit }
}
const fn imapb(min: f64, max: f64, unit: Unit) -> Format {
    Format::Imapb { min, max, unit }
}

/// What this crate knows about `tag`. Tags above 143 are named "Unknown" and kept raw.
pub fn tag_info(tag: u32) -> TagInfo {
    use Unit::*;
    const ALT: (f64, f64) = (-900.0, 19_000.0);
    const ALT_EXT: (f64, f64) = (-900.0, 40_000.0);
    let (name, format) = match tag {
        1 => ("Checksum", Format::Checksum),
        2 => ("Precision Time Stamp", Format::Time),
        3 => ("Mission ID", Format::Text),
        4 => ("Platform Tail Number", Format::Text),
        5 => ("Platform Heading Angle", u(2, 0.0, 360.0, Degrees)),
        6 => ("Platform Pitch Angle", s(2, 20.0, Degrees)),
        7 => ("Platform Roll Angle", s(2, 50.0, Degrees)),
        8 => ("Platform True Airspeed", Format::Uint(Some(MetresPerSecond))),
        9 => ("Platform Indicated Airspeed", Format::Uint(Some(MetresPerSecond))),
        10 => ("Platform Designation", Format::Text),
        11 => ("Image Source Sensor", Format::Text),
        12 => ("Image Coordinate System", Format::Text),
        13 => ("Sensor Latitude", s(4, 90.0, Degrees)),
        14 => ("Sensor Longitude", s(4, 180.0, Degrees)),
        15 => ("Sensor True Altitude", u(2, ALT.0, ALT.1, Metres)),
        16 => ("Sensor Horizontal Field of View", u(2, 0.0, 180.0, Degrees)),
        17 => ("Sensor Vertical Field of View", u(2, 0.0, 180.0, Degrees)),
        18 => ("Sensor Relative Azimuth Angle", u(4, 0.0, 360.0, Degrees)),
        19 => ("Sensor Relative Elevation Angle", s(4, 180.0, Degrees)),
        20 => ("Sensor Relative Roll Angle", u(4, 0.0, 360.0, Degrees)),
        21 => ("Slant Range", u(4, 0.0, 5_000_000.0, Metres)),
        22 => ("Target Width", u(2, 0.0, 10_000.0, Metres)),
        23 => ("Frame Center Latitude", s(4, 90.0, Degrees)),
        24 => ("Frame Center Longitude", s(4, 180.0, Degrees)),
        25 => ("Frame Center Elevation", u(2, ALT.0, ALT.1, Metres)),
        26 => ("Offset Corner Latitude Point 1", s(2, 0.075, Degrees)),
        27 => ("Offset Corner Longitude Point 1", s(2, 0.075, Degrees)),
        28 => ("Offset Corner Latitude Point 2", s(2, 0.075, Degrees)),
        29 => ("Offset Corner Longitude Point 2", s(2, 0.075, Degrees)),
        30 => ("Offset Corner Latitude Point 3", s(2, 0.075, Degrees)),
        31 => ("Offset Corner Longitude Point 3", s(2, 0.075, Degrees)),
        32 => ("Offset Corner Latitude Point 4", s(2, 0.075, Degrees)),
        33 => ("Offset Corner Longitude Point 4", s(2, 0.075, Degrees)),
        34 => ("Icing Detected", Format::Uint(None)),
        35 => ("Wind Direction", u(2, 0.0, 360.0, Degrees)),
        36 => ("Wind Speed", u(1, 0.0, 100.0, MetresPerSecond)),
        37 => ("Static Pressure", u(2, 0.0, 5000.0, Millibars)),
        38 => ("Density Altitude", u(2, ALT.0, ALT.1, Metres)),
        39 => ("Outside Air Temperature", Format::Int(Some(Celsius))),
        40 => ("Target Location Latitude", s(4, 90.0, Degrees)),
        41 => ("Target Location Longitude", s(4, 180.0, Degrees)),
        42 => ("Target Location Elevation", u(2, ALT.0, ALT.1, Metres)),
        43 => ("Target Track Gate Width", u(1, 0.0, 510.0, Pixels)),
        44 => ("Target Track Gate Height", u(1, 0.0, 510.0, Pixels)),
        45 => ("Target Error Estimate - CE90", u(2, 0.0, 4095.0, Metres)),
        46 => ("Target Error Estimate - LE90", u(2, 0.0, 4095.0, Metres)),
        47 => ("Generic Flag Data", Format::Uint(None)),
        48 => ("Security Local Set", Format::Security),
        49 => ("Differential Pressure", u(2, 0.0, 5000.0, Millibars)),
        50 => ("Platform Angle of Attack", s(2, 20.0, Degrees)),
        51 => ("Platform Vertical Speed", s(2, 180.0, MetresPerSecond)),
        52 => ("Platform Sideslip Angle", s(2, 20.0, Degrees)),
        53 => ("Airfield Barometric Pressure", u(2, 0.0, 5000.0, Millibars)),
        54 => ("Airfield Elevation", u(2, ALT.0, ALT.1, Metres)),
        55 => ("Relative Humidity", u(1, 0.0, 100.0, Percent)),
        56 => ("Platform Ground Speed", Format::Uint(Some(MetresPerSecond))),
        57 => ("Ground Range", u(4, 0.0, 5_000_000.0, Metres)),
        58 => ("Platform Fuel Remaining", u(2, 0.0, 10_000.0, Kilograms)),
        59 => ("Platform Call Sign", Format::Text),
        60 => ("Weapon Load", Format::Uint(None)),
        61 => ("Weapon Fired", Format::Uint(None)),
        62 => ("Laser PRF Code", Format::Uint(None)),
        63 => ("Sensor Field of View Name", Format::Uint(None)),
        64 => ("Platform Magnetic Heading", u(2, 0.0, 360.0, Degrees)),
        65 => ("UAS Datalink LS Version Number", Format::Uint(None)),
        66 => ("Deprecated", Format::Raw),
        67 => ("Alternate Platform Latitude", s(4, 90.0, Degrees)),
        68 => ("Alternate Platform Longitude", s(4, 180.0, Degrees)),
        69 => ("Alternate Platform Altitude", u(2, ALT.0, ALT.1, Metres)),
        70 => ("Alternate Platform Name", Format::Text),
        71 => ("Alternate Platform Heading", u(2, 0.0, 360.0, Degrees)),
        72 => ("Event Start Time - UTC", Format::Time),
        73 => ("RVT Local Set", Format::Raw),
        74 => ("VMTI Local Set", Format::Raw),
        75 => ("Sensor Ellipsoid Height", u(2, ALT.0, ALT.1, Metres)),
        76 => ("Alternate Platform Ellipsoid Height", u(2, ALT.0, ALT.1, Metres)),
        77 => ("Operational Mode", Format::Uint(None)),
        78 => ("Frame Center Height Above Ellipsoid", u(2, ALT.0, ALT.1, Metres)),
        79 => ("Sensor North Velocity", s(2, 327.0, MetresPerSecond)),
        80 => ("Sensor East Velocity", s(2, 327.0, MetresPerSecond)),
        81 => ("Image Horizon Pixel Pack", Format::Raw),
        82 => ("Corner Latitude Point 1 (Full)", s(4, 90.0, Degrees)),
        83 => ("Corner Longitude Point 1 (Full)", s(4, 180.0, Degrees)),
        84 => ("Corner Latitude Point 2 (Full)", s(4, 90.0, Degrees)),
        85 => ("Corner Longitude Point 2 (Full)", s(4, 180.0, Degrees)),
        86 => ("Corner Latitude Point 3 (Full)", s(4, 90.0, Degrees)),
        87 => ("Corner Longitude Point 3 (Full)", s(4, 180.0, Degrees)),
        88 => ("Corner Latitude Point 4 (Full)", s(4, 90.0, Degrees)),
        89 => ("Corner Longitude Point 4 (Full)", s(4, 180.0, Degrees)),
        90 => ("Platform Pitch Angle (Full)", s(4, 90.0, Degrees)),
        91 => ("Platform Roll Angle (Full)", s(4, 90.0, Degrees)),
        92 => ("Platform Angle of Attack (Full)", s(4, 90.0, Degrees)),
        93 => ("Platform Sideslip Angle (Full)", s(4, 180.0, Degrees)),
        94 => ("MIIS Core Identifier", Format::Raw),
        95 => ("SAR Motion Imagery Local Set", Format::Raw),
        96 => ("Target Width Extended", imapb(0.0, 1_500_000.0, Metres)),
        97 => ("Range Image Local Set", Format::Raw),
        98 => ("Geo-Registration Local Set", Format::Raw),
        99 => ("Composite Imaging Local Set", Format::Raw),
        100 => ("Segment Local Set", Format::Raw),
        101 => ("Amend Local Set", Format::Raw),
        102 => ("SDCC-FLP", Format::Raw),
        103 => ("Density Altitude Extended", imapb(ALT_EXT.0, ALT_EXT.1, Metres)),
        104 => ("Sensor Ellipsoid Height Extended", imapb(ALT_EXT.0, ALT_EXT.1, Metres)),
        105 => ("Alternate Platform Ellipsoid Height Extended", imapb(ALT_EXT.0, ALT_EXT.1, Metres)),
        106 => ("Stream Designator", Format::Text),
        107 => ("Operational Base", Format::Text),
        108 => ("Broadcast Source", Format::Text),
        109 => ("Range To Recovery Location", imapb(0.0, 21_000.0, Kilometres)),
        110 => ("Time Airborne", Format::Uint(Some(Seconds))),
        111 => ("Propulsion Unit Speed", Format::Uint(Some(Rpm))),
        112 => ("Platform Course Angle", imapb(0.0, 360.0, Degrees)),
        113 => ("Altitude AGL", imapb(ALT_EXT.0, ALT_EXT.1, Metres)),
        114 => ("Radar Altimeter", imapb(ALT_EXT.0, ALT_EXT.1, Metres)),
        115 => ("Control Command", Format::Raw),
        116 => ("Control Command Verification List", Format::Raw),
        117 => ("Sensor Azimuth Rate", imapb(-1000.0, 1000.0, DegreesPerSecond)),
        118 => ("Sensor Elevation Rate", imapb(-1000.0, 1000.0, DegreesPerSecond)),
        119 => ("Sensor Roll Rate", imapb(-1000.0, 1000.0, DegreesPerSecond)),
        120 => ("On-board MI Storage Percent Full", imapb(0.0, 100.0, Percent)),
        121 => ("Active Wavelength List", Format::Raw),
        122 => ("Country Codes", Format::Raw),
        123 => ("Number of NAVSATs in View", Format::Uint(None)),
        124 => ("Positioning Method Source", Format::Uint(None)),
        125 => ("Platform Status", Format::Uint(None)),
        126 => ("Sensor Control Mode", Format::Uint(None)),
        127 => ("Sensor Frame Rate Pack", Format::Raw),
        128 => ("Wavelengths List", Format::Raw),
        129 => ("Target ID", Format::Raw),
        130 => ("Airbase Locations", Format::Raw),
        131 => ("Take-off Time", Format::Time),
        132 => ("Transmission Frequency", imapb(1.0, 99_999.0, Megahertz)),
        133 => ("On-board MI Storage Capacity", Format::Uint(Some(Gigabytes))),
        134 => ("Zoom Percentage", imapb(0.0, 100.0, Percent)),
        135 => ("Communications Method", Format::Raw),
        136 => ("Leap Seconds", Format::Int(Some(Seconds))),
        137 => ("Correction Offset", Format::Raw),
        138 => ("Payload List", Format::Raw),
        139 => ("Active Payloads", Format::Raw),
        140 => ("Weapons Stores", Format::Raw),
        141 => ("Waypoint List", Format::Raw),
        142 => ("View Domain", Format::Raw),
        143 => ("Metadata Substream ID Pack", Format::Raw),
        _ => ("Unknown", Format::Raw),
    };
    TagInfo { tag, name, format }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_tag_has_a_name() {
        for t in 1..=HIGHEST_DEFINED_TAG {
            assert_ne!(tag_info(t).name, "Unknown", "tag {t}");
        }
        assert_eq!(tag_info(144).name, "Unknown");
        assert_eq!(tag_info(0).format, Format::Raw);
    }
}
