//! IMAPB (MISB ST 1201): the floating-point-to-integer mapping of newer ST 0601 tags.
//! bPow = ceil(log2(b − a)), dPow = 8L − 1, sF = 2^(dPow − bPow), sR = 2^(bPow − dPow),
//! zOffset = sF·a − floor(sF·a) when a < 0 < b, else 0. Encode floor(sF·(x − a) + zOffset); decode sR·(y − zOffset) + a.
//! ST 1201's special values (reserved bit patterns for ±infinity, NaN) are not interpreted: they decode as numbers.

/// The scale factors of one IMAPB(a, b, L) mapping.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mapping {
    min: f64,
    forward: f64,
    reverse: f64,
    z_offset: f64,
}

fn mapping(min: f64, max: f64, len: usize) -> Option<Mapping> {
    if min.is_nan() || max.is_nan() || min >= max || len == 0 || len > 8 {
        return None;
    }
    let b_pow = (max - min).log2().ceil();
    let d_pow = (8 * len) as f64 - 1.0;
    let forward = (d_pow - b_pow).exp2();
    let reverse = (b_pow - d_pow).exp2();
    let z_offset = if min < 0.0 && max > 0.0 { forward * min - (forward * min).floor() } else { 0.0 };
    Some(Mapping { min, forward, reverse, z_offset })
}

/// Decodes an IMAPB(min, max, bytes.len()) value; `None` for an empty or over-long value.
pub fn decode(min: f64, max: f64, bytes: &[u8]) -> Option<f64> {
    let m = mapping(min, max, bytes.len())?;
    let y = crate::reader::be_uint(bytes)? as f64;
    Some(m.reverse * (y - m.z_offset) + m.min)
}

/// Encodes `x` (clamped to [min, max]) as IMAPB(min, max, len); `None` when the mapping is undefined.
pub fn encode(min: f64, max: f64, len: usize, x: f64) -> Option<Vec<u8>> {
    let m = mapping(min, max, len)?;
    let x = x.clamp(min, max);
    let y = (m.forward * (x - m.min) + m.z_offset).floor();
    let top = if len == 8 { u64::MAX } else { (1u64 << (8 * len)) - 1 };
    let y = if y <= 0.0 {
        0
    } else if y >= top as f64 {
        top
    } else {
        y as u64
    };
    let bytes = y.to_be_bytes();
    bytes.get(8 - len..).map(<[u8]>::to_vec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_vectors() {
        assert_eq!(encode(0.1, 0.9, 2, 0.5).unwrap(), [0x33, 0x33]);
        assert_eq!(encode(0.1, 0.9, 2, 0.9).unwrap(), [0x66, 0x66]);
        let back = decode(0.1, 0.9, &[0x33, 0x33]).unwrap();
        assert!((back - 0.5).abs() < 1e-4, "{back}");
    }

    #[test]
    fn undefined_mappings() {
        assert_eq!(decode(1.0, 1.0, &[0]), None);
        assert_eq!(decode(0.0, 1.0, &[]), None);
        assert_eq!(encode(0.0, 1.0, 9, 0.5), None);
    }
}
