//! CRC-32/MPEG-2, the checksum that closes every PSI section (PAT, PMT).
//!
//! Polynomial 0x04C11DB7, initial value 0xFFFFFFFF, no reflection, no final XOR. Do not change: it is the
//! wire format of ISO/IEC 13818-1.

const TABLE: [u32; 256] = build_table();

#[expect(clippy::indexing_slicing, reason = "i < 256 is the loop bound; a const fn cannot call get_mut")]
const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04C1_1DB7 } else { crc << 1 };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// CRC-32/MPEG-2 of `bytes`. Over a whole section including its CRC field the result is 0.
pub fn crc32_mpeg2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0xFFFF_FFFF_u32, |crc, byte| {
        let index = usize::from(((crc >> 24) as u8) ^ byte);
        let entry = TABLE.get(index).copied().unwrap_or(0);
        (crc << 8) ^ entry
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        // The catalogue check value of CRC-32/MPEG-2.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
    }

    #[test]
    fn section_with_its_crc_sums_to_zero() {
        let mut bytes = b"123456789".to_vec();
        bytes.extend_from_slice(&crc32_mpeg2(b"123456789").to_be_bytes());
        assert_eq!(crc32_mpeg2(&bytes), 0);
    }
}
