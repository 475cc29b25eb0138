//! Structural checks of a manifest against its payload, without keys: supported algorithms, segment sizes
//! consistent with the defaults and with the payload entry, counts within limits, hashes of the right length.
//! The result is the segment layout the decryptor seeks by. Shared by the reader and `inspect`.

use crate::SEGMENT_OVERHEAD;
use crate::b64;
use crate::error::{Error, IntegrityError, Result};
use crate::limits::ReadLimits;
use crate::manifest::Manifest;
use crate::policy::Policy;
use crate::segment::SegmentHashAlg;

/// Where one segment lies, in the plaintext and in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Index from 0.
    pub index: usize,
    /// Offset of its first plaintext byte.
    pub plaintext_offset: u64,
    /// Plaintext bytes.
    pub plaintext_len: u64,
    /// Offset of its stored bytes in the source (absolute).
    pub stored_offset: u64,
    /// Stored bytes (plaintext + 28).
    pub stored_len: u64,
}

/// The checked layout of a container.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) segments: Vec<SegmentInfo>,
    /// Segment hashes as decoded from base64 (legacy: hex text).
    pub(crate) hashes: Vec<Vec<u8>>,
    pub(crate) hash_alg: SegmentHashAlg,
    pub(crate) legacy: bool,
    pub(crate) plaintext_len: u64,
}

impl Layout {
    /// The concatenated segment hashes the root signature and assertion bindings cover.
    pub(crate) fn aggregate(&self) -> Vec<u8> {
        self.hashes.concat()
    }
}

/// Checks the manifest against the payload entry (`payload_offset`, `payload_len`) and computes the layout.
pub(crate) fn check(
    manifest: &Manifest,
    payload_offset: u64,
    payload_len: u64,
    limits: &ReadLimits,
) -> Result<Layout> {
    let ei = &manifest.encryption_information;
    let ii = &ei.integrity_information;
    if !ei.method.algorithm.eq_ignore_ascii_case("AES-256-GCM") {
        return Err(Error::Unsupported(format!("payload algorithm `{}`", ei.method.algorithm)));
    }
    if !ii.root_signature.alg.eq_ignore_ascii_case("HS256") {
        // A `GMAC` root signature is unkeyed (the last segment tag): it proves nothing, so it is refused.
        return Err(Error::Unsupported(format!("root signature algorithm `{}`", ii.root_signature.alg)));
    }
    let hash_alg = SegmentHashAlg::parse(&ii.segment_hash_alg)?;
    if ei.key_access.is_empty() {
        return Err(Error::Manifest("there is no key access object".into()));
    }
    if ei.key_access.len() > limits.max_key_access {
        return Err(Error::Limit(format!(
            "{} key access objects (at most {})",
            ei.key_access.len(),
            limits.max_key_access
        )));
    }
    if manifest.assertions.len() > limits.max_assertions {
        return Err(Error::Limit(format!(
            "{} assertions (at most {})",
            manifest.assertions.len(),
            limits.max_assertions
        )));
    }
    let mut ids: Vec<&str> = manifest.assertions.iter().map(|a| a.id.as_str()).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
        return Err(Error::Manifest("two assertions have the same id".into()));
    }
    Policy::from_base64(&ei.policy)?;
    if ii.segment_size_default.checked_add(SEGMENT_OVERHEAD) != Some(ii.encrypted_segment_size_default)
        || ii.encrypted_segment_size_default > limits.max_segment_bytes
    {
        return Err(Error::Manifest(format!(
            "`encryptedSegmentSizeDefault` ({}) is not `segmentSizeDefault` ({}) + 28",
            ii.encrypted_segment_size_default, ii.segment_size_default
        )));
    }
    let count = ii.segments.len();
    let most = usize::try_from(payload_len / SEGMENT_OVERHEAD).unwrap_or(usize::MAX).max(1);
    if count > limits.max_segments || count > most {
        return Err(Error::Limit(format!(
            "the manifest lists {count} segments for a payload of {payload_len} bytes (at most {})",
            limits.max_segments.min(most)
        )));
    }
    let legacy = manifest.is_legacy();
    let raw_len = match hash_alg {
        SegmentHashAlg::Gmac => 16,
        SegmentHashAlg::Hs256 => 32,
    };
    let hash_len = if legacy { raw_len * 2 } else { raw_len };
    let mut segments = Vec::with_capacity(count);
    let mut hashes = Vec::with_capacity(count);
    let mut plain_off = 0u64;
    let mut stored_off = payload_offset;
    for (index, s) in ii.segments.iter().enumerate() {
        let plain = s.segment_size.unwrap_or(ii.segment_size_default);
        let stored = s.encrypted_segment_size.unwrap_or(ii.encrypted_segment_size_default);
        if plain.checked_add(SEGMENT_OVERHEAD) != Some(stored) {
            return Err(IntegrityError::PayloadSize {
                declared: plain.saturating_add(SEGMENT_OVERHEAD),
                actual: stored,
            }
            .into());
        }
        if stored > limits.max_segment_bytes {
            return Err(Error::Limit(format!(
                "segment {index} is {stored} bytes (at most {})",
                limits.max_segment_bytes
            )));
        }
        let hash = b64::decode(&s.hash, "a segment hash")?;
        if hash.len() != hash_len {
            return Err(Error::Manifest(format!("the hash of segment {index} has the wrong length")));
        }
        hashes.push(hash);
        segments.push(SegmentInfo {
            index,
            plaintext_offset: plain_off,
            plaintext_len: plain,
            stored_offset: stored_off,
            stored_len: stored,
        });
        plain_off =
            plain_off.checked_add(plain).ok_or_else(|| Error::Manifest("segment sizes overflow".into()))?;
        stored_off =
            stored_off.checked_add(stored).ok_or_else(|| Error::Manifest("segment sizes overflow".into()))?;
    }
    let declared = stored_off - payload_offset;
    if declared != payload_len {
        return Err(IntegrityError::PayloadSize { declared, actual: payload_len }.into());
    }
    Ok(Layout { segments, hashes, hash_alg, legacy, plaintext_len: plain_off })
}
