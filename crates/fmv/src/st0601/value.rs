//! Typed ST 0601 values: decoding one item's bytes by its tag's [`Format`], and encoding numbers back.

use std::fmt;

use crate::reader::{be_int, be_uint};
use crate::st0102::SecuritySet;
use crate::st0601::imapb;
use crate::st0601::tags::{Format, Unit};
use crate::time::PrecisionTime;

/// A decoded ST 0601 value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A time stamp (tags 2, 72, 131).
    Time(PrecisionTime),
    /// Text.
    Text(String),
    /// A number with a unit.
    Quantity {
        /// The value in `unit`.
        value: f64,
        /// Its unit.
        unit: Unit,
    },
    /// An unsigned integer (counts, codes, flags), maybe with a unit.
    Unsigned(u64, Option<Unit>),
    /// A signed integer, maybe with a unit.
    Signed(i64, Option<Unit>),
    /// The reserved "error" code of a signed mapping (the most negative integer): the sensor reports no value.
    ErrorIndicator,
    /// A nested ST 0102 security local set (tag 48).
    Security(SecuritySet),
    /// Bytes this crate does not interpret.
    Bytes(Vec<u8>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Time(t) => write!(f, "{t}"),
            Value::Text(s) => write!(f, "{s:?}"),
            Value::Quantity { value, unit } => write!(f, "{value} {unit}"),
            Value::Unsigned(v, Some(unit)) => write!(f, "{v} {unit}"),
            Value::Unsigned(v, None) => write!(f, "{v}"),
            Value::Signed(v, Some(unit)) => write!(f, "{v} {unit}"),
            Value::Signed(v, None) => write!(f, "{v}"),
            Value::ErrorIndicator => f.write_str("(error indicator: no value)"),
            Value::Security(set) => write!(f, "{set}"),
            Value::Bytes(b) => {
                for byte in b {
                    write!(f, "{byte:02X}")?;
                }
                Ok(())
            }
        }
    }
}

/// An item's bytes do not fit its tag's format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The value has the wrong length for its tag.
    #[error("value is {found} bytes, the tag's format needs {expected}")]
    Length {
        /// The length the format needs (for variable-length formats, the maximum).
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// Text is not valid UTF-8.
    #[error("text is not valid UTF-8")]
    Utf8,
    /// The nested security set is malformed.
    #[error("security local set is malformed: {0}")]
    Security(crate::error::KlvError),
}

/// Decodes `bytes` as `format`.
pub fn decode(format: Format, bytes: &[u8]) -> Result<Value, ValueError> {
    let too_long = |max: usize| ValueError::Length { expected: max, found: bytes.len() };
    match format {
        Format::Checksum => exact(bytes, 2).map(|v| Value::Unsigned(v, None)),
        Format::Time => exact(bytes, 8).map(|v| Value::Time(PrecisionTime(v))),
        Format::Text => {
            std::str::from_utf8(bytes).map(|s| Value::Text(s.to_owned())).map_err(|_| ValueError::Utf8)
        }
        Format::Uint(unit) => be_uint(bytes).map(|v| Value::Unsigned(v, unit)).ok_or_else(|| too_long(8)),
        Format::Int(unit) => be_int(bytes).map(|v| Value::Signed(v, unit)).ok_or_else(|| too_long(8)),
        Format::Unsigned { len, min, max, unit } => {
            let raw = exact(bytes, usize::from(len))?;
            let value = min + raw as f64 * (max - min) / full_scale_unsigned(len);
            Ok(Value::Quantity { value, unit })
        }
        Format::Signed { len, range, unit } => {
            let raw = exact(bytes, usize::from(len)).map(|_| be_int(bytes))?.ok_or_else(|| too_long(8))?;
            if raw == error_code(len) {
                return Ok(Value::ErrorIndicator);
            }
            Ok(Value::Quantity { value: raw as f64 * range / full_scale_signed(len), unit })
        }
        Format::Imapb { min, max, unit } => imapb::decode(min, max, bytes)
            .map(|value| Value::Quantity { value, unit })
            .ok_or_else(|| too_long(8)),
        Format::Security => {
            SecuritySet::parse_nested(bytes).map(Value::Security).map_err(ValueError::Security)
        }
        Format::Raw => Ok(Value::Bytes(bytes.to_vec())),
    }
}

/// Encodes a number for a `Unsigned`, `Signed` or `Imapb` format (clamped to the format's range; never the
/// error code); `None` for other formats.
pub fn encode_quantity(format: Format, value: f64) -> Option<Vec<u8>> {
    match format {
        Format::Unsigned { len, min, max, unit: _ } => {
            let scaled = ((value - min) * full_scale_unsigned(len) / (max - min)).round();
            let raw = scaled.clamp(0.0, full_scale_unsigned(len)) as u64;
            tail(raw.to_be_bytes(), len)
        }
        Format::Signed { len, range, unit: _ } => {
            let top = full_scale_signed(len);
            let raw = (value * top / range).round().clamp(-top, top) as i64;
            tail(raw.to_be_bytes(), len)
        }
        Format::Imapb { min, max, unit: _ } => imapb::encode(min, max, 4, value),
        _ => None,
    }
}

fn exact(bytes: &[u8], len: usize) -> Result<u64, ValueError> {
    if bytes.len() != len {
        return Err(ValueError::Length { expected: len, found: bytes.len() });
    }
    be_uint(bytes).ok_or(ValueError::Length { expected: len, found: bytes.len() })
}

fn full_scale_unsigned(len: u8) -> f64 {
    (2f64).powi(8 * i32::from(len)) - 1.0
}

fn full_scale_signed(len: u8) -> f64 {
    (2f64).powi(8 * i32::from(len) - 1) - 1.0
}

fn error_code(len: u8) -> i64 {
    // The most negative integer of `len` bytes: -(2^(8·len−1)).
    if len == 0 || len >= 8 { i64::MIN } else { -(1i64 << (8 * u32::from(len) - 1)) }
}

fn tail(bytes: [u8; 8], len: u8) -> Option<Vec<u8>> {
    bytes.get(8 - usize::from(len).min(8)..).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::st0601::tags::tag_info;

    fn quantity(tag: u32, bytes: &[u8]) -> f64 {
        match decode(tag_info(tag).format, bytes).unwrap() {
            Value::Quantity { value, .. } => value,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn digest_examples() {
        assert!((quantity(5, &[0x71, 0xC2]) - 159.974).abs() < 1e-3);
        assert!((quantity(13, &[0x55, 0x95, 0xB6, 0x6D]) - 60.176822966978335).abs() < 1e-12);
        assert!((quantity(14, &[0x5B, 0x53, 0x60, 0xC4]) - 128.42675904204452).abs() < 1e-12);
        assert!((quantity(15, &[0xC2, 0x21]) - 14190.72).abs() < 5e-3);
    }

    #[test]
    fn error_indicator() {
        assert_eq!(decode(tag_info(6).format, &[0x80, 0x00]), Ok(Value::ErrorIndicator));
        assert_eq!(decode(tag_info(13).format, &[0x80, 0, 0, 0]), Ok(Value::ErrorIndicator));
        assert_eq!(error_code(1), -128);
        assert_eq!(error_code(4), -(1i64 << 31));
        assert_eq!(error_code(8), i64::MIN);
    }

    #[test]
    fn wrong_length_is_an_error_not_a_guess() {
        assert_eq!(decode(tag_info(13).format, &[1, 2]), Err(ValueError::Length { expected: 4, found: 2 }));
        assert_eq!(decode(tag_info(3).format, &[0xFF]), Err(ValueError::Utf8));
    }

    #[test]
    fn encode_round_trips() {
        let f = tag_info(13).format;
        let bytes = encode_quantity(f, 42.40360).unwrap();
        assert!((quantity(13, &bytes) - 42.40360).abs() < 1e-7);
        assert_eq!(encode_quantity(tag_info(3).format, 1.0), None);
    }
}
