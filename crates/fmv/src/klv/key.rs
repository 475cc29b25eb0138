//! 16-byte SMPTE universal labels (keys) and the ones this crate decodes.

use std::fmt;

/// A 16-byte SMPTE universal key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UniversalKey(pub [u8; 16]);

/// The first four bytes of every SMPTE universal label: used to find the next KLV packet after garbage.
pub const SMPTE_PREFIX: [u8; 4] = [0x06, 0x0E, 0x2B, 0x34];

impl UniversalKey {
    /// MISB ST 0601 UAS Datalink Local Set. Do not change: wire constant.
    pub const UAS_DATALINK: Self = Self([
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x0B, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x01, 0x01, 0x00, 0x00, 0x00,
    ]);
    /// MISB ST 0102 Security Metadata Local Set, standalone. Do not change: wire constant.
    pub const SECURITY: Self = Self([
        0x06, 0x0E, 0x2B, 0x34, 0x02, 0x03, 0x01, 0x01, 0x0E, 0x01, 0x03, 0x03, 0x02, 0x00, 0x00, 0x00,
    ]);

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Whether `self` names the same item as `other`. SMPTE ST 336 says byte 8 (the registry version) is
    /// ignored when matching, so packets from producers of an older registry version still match.
    pub fn matches(&self, other: &UniversalKey) -> bool {
        self.0.iter().zip(other.0.iter()).enumerate().all(|(i, (a, b))| i == 7 || a == b)
    }
}

impl fmt::Debug for UniversalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UniversalKey({self})")
    }
}

impl fmt::Display for UniversalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                f.write_str(".")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_byte_is_ignored() {
        let mut older = UniversalKey::UAS_DATALINK;
        older.0[7] = 0x02;
        assert!(older.matches(&UniversalKey::UAS_DATALINK));
        assert!(!UniversalKey::SECURITY.matches(&UniversalKey::UAS_DATALINK));
        assert_eq!(UniversalKey::UAS_DATALINK.to_string(), "060E2B34.020B0101.0E010301.01000000");
    }
}
