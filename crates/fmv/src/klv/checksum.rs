//! The ST 0601 packet checksum: a 16-bit running sum of big-endian words (an odd last byte counts as a high byte).
//! Do not change: it is MISB ST 0601's wire format.

/// The running sum of `bytes`, modulo 2^16.
pub fn running_sum16(bytes: &[u8]) -> u16 {
    let mut words = bytes.chunks_exact(2);
    let mut sum = words.by_ref().fold(0u16, |s, w| match w {
        [hi, lo] => s.wrapping_add(u16::from_be_bytes([*hi, *lo])),
        _ => s,
    });
    if let [odd] = words.remainder() {
        sum = sum.wrapping_add(u16::from(*odd) << 8);
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_vectors() {
        assert_eq!(running_sum16(&[0x06, 0x0E, 0x2B, 0x34, 0x02, 0x00, 0x81, 0xBB]), 0xB4FD);
        assert_eq!(running_sum16(&[]), 0);
        assert_eq!(running_sum16(&[0xAB]), 0xAB00);
        assert_eq!(running_sum16(&[0xAB, 0xCD]), 0xABCD);
        assert_eq!(running_sum16(&[0xAB, 0xCD, 0xEF]), 0x9ACD);
        let v = [0x12, 0x00, 0x00, 0x43, 0x11, 0x43, 0xAC, 0x46, 0x92];
        assert_eq!(running_sum16(&v), 0x61CC);
        let mut w = v.to_vec();
        w.push(0x01);
        assert_eq!(running_sum16(&w), 0x61CD);
    }
}
