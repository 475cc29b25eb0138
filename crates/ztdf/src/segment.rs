//! Segment cryptography: each stored segment is `IV(12) || AES-256-GCM ciphertext || tag(16)`, no AAD; its
//! hash is the GCM tag (GMAC) or HMAC-SHA256 of the whole stored segment under the payload key (HS256); the
//! root signature is HMAC-SHA256 over the concatenated hashes. Legacy files (no `schemaVersion`) carry every
//! hash and the root signature as hex strings. Opening checks the manifest hash, then the tag, and only then
//! exposes plaintext.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::{constant_time, hmac};
use zeroize::Zeroize;

use crate::b64;
use crate::error::{Error, IntegrityError, Result};
use crate::key::PayloadKey;

/// IV length in a stored segment.
pub(crate) const IV_LEN: usize = NONCE_LEN;
/// GCM tag length in a stored segment.
pub(crate) const TAG_LEN: usize = 16;

/// How segment hashes are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SegmentHashAlg {
    /// The segment's GCM tag (the SDKs' default).
    #[default]
    Gmac,
    /// HMAC-SHA256 of the stored segment under the payload key.
    Hs256,
}

impl SegmentHashAlg {
    /// The manifest spelling. Do not change: wire constant.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentHashAlg::Gmac => "GMAC",
            SegmentHashAlg::Hs256 => "HS256",
        }
    }

    /// Parses the manifest spelling (case-insensitive).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for another algorithm.
    pub fn parse(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("GMAC") {
            Ok(SegmentHashAlg::Gmac)
        } else if s.eq_ignore_ascii_case("HS256") {
            Ok(SegmentHashAlg::Hs256)
        } else {
            Err(Error::Unsupported(format!("segment hash algorithm `{s}`")))
        }
    }
}

/// Seals and opens segments under one payload key. Shared by reference across worker threads.
pub(crate) struct SegmentCipher {
    aead: LessSafeKey,
    mac: hmac::Key,
    alg: SegmentHashAlg,
    legacy: bool,
}

impl std::fmt::Debug for SegmentCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentCipher").field("alg", &self.alg).field("legacy", &self.legacy).finish()
    }
}

impl SegmentCipher {
    pub(crate) fn new(key: &PayloadKey, alg: SegmentHashAlg, legacy: bool) -> Result<Self> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.as_bytes()).map_err(|_| Error::Crypto("aes key"))?;
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            mac: hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()),
            alg,
            legacy,
        })
    }

    /// Encrypts in place: `buf` holds `IV || plaintext` on entry and `IV || ciphertext || tag` on return.
    /// Returns the segment hash as it is encoded in the manifest before base64 (raw, or hex for legacy).
    pub(crate) fn seal(&self, buf: &mut Vec<u8>) -> Result<Vec<u8>> {
        buf.resize(buf.len() + TAG_LEN, 0);
        self.seal_in_place(buf)
    }

    /// Encrypts a stored segment in place, in a buffer of its final size: `stored` holds
    /// `IV || plaintext || 16 bytes of room` on entry and `IV || ciphertext || tag` on return. Returns the
    /// segment hash as [`SegmentCipher::seal`] does.
    pub(crate) fn seal_in_place(&self, stored: &mut [u8]) -> Result<Vec<u8>> {
        let short = || Error::Crypto("segment shorter than iv and tag");
        let body_end = stored.len().checked_sub(TAG_LEN).filter(|&e| e >= IV_LEN).ok_or_else(short)?;
        let (head, tag_room) = stored.split_at_mut_checked(body_end).ok_or_else(short)?;
        let (iv, body) = head.split_at_mut_checked(IV_LEN).ok_or_else(short)?;
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| Error::Crypto("iv"))?;
        let tag = self
            .aead
            .seal_in_place_separate_tag(nonce, Aad::empty(), body)
            .map_err(|_| Error::Crypto("segment encryption"))?;
        tag_room.copy_from_slice(tag.as_ref());
        Ok(self.encode(&self.raw_hash(stored)))
    }

    /// As [`SegmentCipher::seal`], and also returns the CRC-32 of the stored segment (for the ZIP), computed
    /// right after sealing while the bytes are still in cache.
    pub(crate) fn seal_with_crc(&self, buf: &mut Vec<u8>) -> Result<(Vec<u8>, u32)> {
        let hash = self.seal(buf)?;
        Ok((hash, crc32fast::hash(buf)))
    }

    /// Verifies a stored segment against its manifest hash (decoded from base64), then decrypts in place.
    /// Returns the range of `buf` that holds the plaintext. On any failure `buf` is zeroized and nothing of it
    /// may be used.
    pub(crate) fn open(
        &self,
        buf: &mut [u8],
        expected: &[u8],
        index: usize,
        count: usize,
    ) -> Result<std::ops::Range<usize>> {
        let fail = IntegrityError::Segment { index, count };
        if buf.len() < IV_LEN + TAG_LEN {
            return Err(fail.into());
        }
        let hash = self.encode(&self.raw_hash(buf));
        if constant_time::verify_slices_are_equal(&hash, expected).is_err() {
            buf.zeroize();
            return Err(fail.into());
        }
        let end = buf.len() - TAG_LEN;
        let (iv, body) = buf.split_at_mut_checked(IV_LEN).ok_or(Error::Crypto("segment shorter than iv"))?;
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| Error::Crypto("iv"))?;
        if self.aead.open_in_place(nonce, Aad::empty(), body).is_err() {
            buf.zeroize();
            return Err(fail.into());
        }
        Ok(IV_LEN..end)
    }

    /// Verifies a stored segment (borrowed, not modified) against its manifest hash, then decrypts it into
    /// `out`, which must be exactly its plaintext length. On any failure `out` is zeroized and nothing of it
    /// may be used.
    pub(crate) fn open_into(
        &self,
        stored: &[u8],
        expected: &[u8],
        index: usize,
        count: usize,
        out: &mut [u8],
    ) -> Result<()> {
        let fail = IntegrityError::Segment { index, count };
        let hash = self.encode(&self.raw_hash(stored));
        let parts = stored.split_at_checked(IV_LEN).and_then(|(iv, rest)| {
            let (ct, tag) = rest.split_at_checked(rest.len().checked_sub(TAG_LEN)?)?;
            Some((iv, ct, tag))
        });
        let Some((iv, ct, tag)) = parts.filter(|(_, ct, _)| ct.len() == out.len()) else {
            out.zeroize();
            return Err(fail.into());
        };
        if constant_time::verify_slices_are_equal(&hash, expected).is_err() {
            out.zeroize();
            return Err(fail.into());
        }
        let nonce = Nonce::try_assume_unique_for_key(iv).map_err(|_| Error::Crypto("iv"))?;
        if self.aead.open_separate_gather(nonce, Aad::empty(), ct, tag, out).is_err() {
            out.zeroize();
            return Err(fail.into());
        }
        Ok(())
    }

    fn raw_hash(&self, stored: &[u8]) -> Vec<u8> {
        match self.alg {
            SegmentHashAlg::Gmac => {
                stored.get(stored.len().saturating_sub(TAG_LEN)..).unwrap_or_default().to_vec()
            }
            SegmentHashAlg::Hs256 => hmac::sign(&self.mac, stored).as_ref().to_vec(),
        }
    }

    fn encode(&self, raw: &[u8]) -> Vec<u8> {
        if self.legacy { hex::encode(raw).into_bytes() } else { raw.to_vec() }
    }

    /// The root signature, base64-encoded, over the aggregate of encoded segment hashes.
    pub(crate) fn root_signature(&self, aggregate: &[u8]) -> String {
        let tag = hmac::sign(&self.mac, aggregate);
        b64::encode(&self.encode(tag.as_ref()))
    }

    /// Verifies the root signature (base64 as in the manifest) over the aggregate, in constant time.
    pub(crate) fn verify_root_signature(
        &self,
        aggregate: &[u8],
        sig_b64: &str,
    ) -> Result<(), IntegrityError> {
        let given = b64::decode(sig_b64, "the root signature").map_err(|_| IntegrityError::RootSignature)?;
        let tag = hmac::sign(&self.mac, aggregate);
        let expected = self.encode(tag.as_ref());
        constant_time::verify_slices_are_equal(&given, &expected).map_err(|_| IntegrityError::RootSignature)
    }
}
