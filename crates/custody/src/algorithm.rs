//! Key algorithms, key versions (`KeyInfo`) and their identifiers: `<prefix>-<n>`, numbered per algorithm
//! from 1 and never reused.

use std::fmt;
use std::str::FromStr;

use redoubt_ztdf::Curve;
use serde::{Deserialize, Serialize};

use crate::error::CustodyError;

/// A KAS key algorithm. Written as in the KAS protocol: `rsa:2048`, `ec:secp256r1`, `ec:secp384r1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// RSA-2048: unwraps `wrapped` objects (RSA-OAEP SHA-1).
    Rsa2048,
    /// EC P-256: unwraps `ec-wrapped` objects on P-256.
    EcP256,
    /// EC P-384: unwraps `ec-wrapped` objects on P-384.
    EcP384,
}

impl Algorithm {
    /// Every algorithm, in the order [`crate::KeyCustody::ensure_defaults`] makes them.
    pub const ALL: [Algorithm; 3] = [Algorithm::Rsa2048, Algorithm::EcP256, Algorithm::EcP384];

    /// The protocol name. Do not change: persisted in `keyring.json` and in key-file AADs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Rsa2048 => "rsa:2048",
            Algorithm::EcP256 => "ec:secp256r1",
            Algorithm::EcP384 => "ec:secp384r1",
        }
    }

    /// The kid prefix (`rsa2048`, `p256`, `p384`). Do not change: kids are persisted and written into objects.
    #[must_use]
    pub fn kid_prefix(self) -> &'static str {
        match self {
            Algorithm::Rsa2048 => "rsa2048",
            Algorithm::EcP256 => "p256",
            Algorithm::EcP384 => "p384",
        }
    }

    /// The curve of an EC algorithm.
    #[must_use]
    pub fn curve(self) -> Option<Curve> {
        match self {
            Algorithm::Rsa2048 => None,
            Algorithm::EcP256 => Some(Curve::P256),
            Algorithm::EcP384 => Some(Curve::P384),
        }
    }

    /// The key access object type this algorithm unwraps: `wrapped` or `ec-wrapped`.
    #[must_use]
    pub fn kao_kind(self) -> &'static str {
        match self {
            Algorithm::Rsa2048 => "wrapped",
            Algorithm::EcP256 | Algorithm::EcP384 => "ec-wrapped",
        }
    }

    /// The kid of version `n`.
    #[must_use]
    pub fn kid(self, n: u64) -> String {
        format!("{}-{n}", self.kid_prefix())
    }

    /// The version number of a kid of this algorithm (`p256-7` → 7).
    #[must_use]
    pub fn version_of(self, kid: &str) -> Option<u64> {
        kid.strip_prefix(self.kid_prefix())?.strip_prefix('-')?.parse().ok()
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = CustodyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| {
            CustodyError::Invalid(format!(
                "unknown key algorithm `{s}`: use `rsa:2048`, `ec:secp256r1` or `ec:secp384r1`"
            ))
        })
    }
}

impl Serialize for Algorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The state of a key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Unwraps; the newest active version of an algorithm is the one new objects are wrapped to.
    Active,
    /// Destroyed for good; the kid stays listed so it is never reused.
    Shredded,
}

/// One key version, as listed in `keyring.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Key identifier: `<prefix>-<n>`, written into key access objects.
    pub kid: String,
    /// The key algorithm.
    pub algorithm: Algorithm,
    /// Active or shredded.
    pub state: KeyState,
    /// When the version was made (or imported), unix seconds.
    pub created_unix: i64,
    /// When it was shredded, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shredded_unix: Option<i64>,
}

/// The next kid of `alg` given the versions that exist: one more than the highest ever made.
pub(crate) fn next_kid(keys: &[KeyInfo], alg: Algorithm) -> (u64, String) {
    let n = keys.iter().filter_map(|k| alg.version_of(&k.kid)).max().unwrap_or(0).saturating_add(1);
    (n, alg.kid(n))
}

/// The newest active version of `alg`.
pub(crate) fn current(keys: &[KeyInfo], alg: Algorithm) -> Option<KeyInfo> {
    keys.iter().rev().find(|k| k.algorithm == alg && k.state == KeyState::Active).cloned()
}

/// Checks that `alg` fits a key access object's type.
pub(crate) fn check_kind(info: &KeyInfo, kind: &str) -> Result<(), CustodyError> {
    if info.algorithm.kao_kind() == kind {
        Ok(())
    } else {
        Err(CustodyError::WrongKeyType {
            kid: info.kid.clone(),
            algorithm: info.algorithm,
            kind: kind.to_owned(),
        })
    }
}

/// Finds a version and checks it is active.
pub(crate) fn active<'a>(keys: &'a [KeyInfo], kid: &str) -> Result<&'a KeyInfo, CustodyError> {
    let info = keys.iter().find(|k| k.kid == kid).ok_or_else(|| CustodyError::UnknownKid(kid.to_owned()))?;
    match (info.state, info.shredded_unix) {
        (KeyState::Active, _) => Ok(info),
        (KeyState::Shredded, when) => {
            Err(CustodyError::Shredded { kid: kid.to_owned(), when: when.unwrap_or_default() })
        }
    }
}

/// The keyring with `kid` marked shredded at `now_unix`, and its new record; both backends record this before
/// they destroy anything.
pub(crate) fn mark_shredded(
    keys: &[KeyInfo],
    kid: &str,
    now_unix: i64,
) -> Result<(Vec<KeyInfo>, KeyInfo), CustodyError> {
    active(keys, kid)?;
    let mut keys = keys.to_vec();
    let mut shredded = None;
    for k in keys.iter_mut().filter(|k| k.kid == kid) {
        k.state = KeyState::Shredded;
        k.shredded_unix = Some(now_unix);
        shredded = Some(k.clone());
    }
    let shredded = shredded.ok_or_else(|| CustodyError::UnknownKid(kid.to_owned()))?;
    Ok((keys, shredded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Algorithm::ALL {
            assert_eq!(a.to_string().parse::<Algorithm>().unwrap(), a);
            assert_eq!(a.version_of(&a.kid(12)), Some(12));
        }
        assert!("rsa:4096".parse::<Algorithm>().is_err());
        assert_eq!(Algorithm::EcP256.version_of("p384-1"), None);
        assert_eq!(Algorithm::EcP256.version_of("p256-x"), None);
    }

    #[test]
    fn next_kid_counts_shredded_versions() {
        let info = |kid: &str, state| KeyInfo {
            kid: kid.into(),
            algorithm: Algorithm::EcP256,
            state,
            created_unix: 0,
            shredded_unix: None,
        };
        let keys = vec![info("p256-1", KeyState::Active), info("p256-2", KeyState::Shredded)];
        assert_eq!(next_kid(&keys, Algorithm::EcP256).1, "p256-3");
        assert_eq!(next_kid(&keys, Algorithm::EcP384).1, "p384-1");
        assert_eq!(current(&keys, Algorithm::EcP256).unwrap().kid, "p256-1");
    }

    #[test]
    fn key_info_json_shape() {
        let k = KeyInfo {
            kid: "p384-1".into(),
            algorithm: Algorithm::EcP384,
            state: KeyState::Shredded,
            created_unix: 1,
            shredded_unix: Some(2),
        };
        let j = serde_json::to_string(&k).unwrap();
        assert_eq!(
            j,
            r#"{"kid":"p384-1","algorithm":"ec:secp384r1","state":"shredded","created_unix":1,"shredded_unix":2}"#
        );
        assert_eq!(serde_json::from_str::<KeyInfo>(&j).unwrap(), k);
    }
}
