//! What both encryption paths — the streaming [`TdfWriter`](super::TdfWriter) and the in-memory
//! [`encrypt_in_memory`](crate::encrypt_in_memory) — share, so that they write one format: checking the
//! configuration, making the policy, the payload key and its key access objects up front (a failure to wrap
//! writes nothing), the manifest record of each sealed segment, and the end of the container (root signature,
//! assertions, manifest entry, ZIP directory).

use std::io::Write;
use std::sync::Arc;

use crate::assertion::{Assertion, AssertionConfig};
use crate::error::{Error, Result};
use crate::key::{KasTarget, KeyShare, PayloadKey, SplitMode, wrap_key_access};
use crate::manifest::{
    EncryptionInformation, IntegrityInformation, KeyAccessObject, Manifest, Method, PayloadReference,
    RootSignature, Segment,
};
use crate::policy::{AttributeValue, Policy, PolicyBody};
use crate::rand::{RandomSource, uuid_v4};
use crate::segment::{SegmentCipher, SegmentHashAlg};
use crate::zip::ZipWriter;
use crate::{
    MANIFEST_ENTRY, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE, PAYLOAD_ENTRY, SCHEMA_VERSION, SEGMENT_OVERHEAD,
};

use super::{EncryptConfig, WriteSummary};

/// A checked configuration with its key material made: everything an encryption needs besides the plaintext.
pub(crate) struct Prepared {
    pub(crate) key: PayloadKey,
    /// Shared with worker threads.
    pub(crate) cipher: Arc<SegmentCipher>,
    /// Plaintext bytes per segment (every segment but the last is full).
    pub(crate) segment_size: usize,
    /// Threads for segment encryption, 1 to 256.
    pub(crate) threads: usize,
    key_access: Vec<KeyAccessObject>,
    policy_b64: String,
    hash_alg: SegmentHashAlg,
    mime_type: String,
    assertions: Vec<AssertionConfig>,
}

impl Prepared {
    /// Checks the configuration, generates the key and wraps it to every KAS target.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid configuration, key or random failures.
    pub(crate) fn new(config: EncryptConfig, rng: &dyn RandomSource) -> Result<Self> {
        if config.kas.is_empty() {
            return Err(Error::Config("at least one KAS public key is required".into()));
        }
        if !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&config.segment_size) {
            return Err(Error::Config(format!(
                "segment size {} is outside {MIN_SEGMENT_SIZE}..={MAX_SEGMENT_SIZE} bytes",
                config.segment_size
            )));
        }
        let threads = config.threads.clamp(1, 256);
        let mut ids: Vec<&str> = config.assertions.iter().map(|a| a.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| matches!(w, [a, b] if a == b)) {
            return Err(Error::Config("assertion ids must be unique".into()));
        }
        let policy = Policy {
            uuid: match config.policy_uuid {
                Some(u) => u,
                None => uuid_v4(rng)?,
            },
            body: PolicyBody {
                data_attributes: config
                    .attributes
                    .iter()
                    .map(|a| AttributeValue { attribute: a.clone() })
                    .collect(),
                dissem: config.dissem.clone(),
            },
        };
        let policy_b64 = policy.to_base64()?;
        let (key, key_access) =
            split_and_wrap(&config.kas, config.split, &policy_b64, config.metadata.as_deref(), rng)?;
        let cipher = Arc::new(SegmentCipher::new(&key, config.hash_alg, false)?);
        Ok(Self {
            key,
            cipher,
            segment_size: config.segment_size as usize,
            threads,
            key_access,
            policy_b64,
            hash_alg: config.hash_alg,
            mime_type: config.mime_type,
            assertions: config.assertions,
        })
    }

    /// Closes the payload entry (its data descriptor), then writes the manifest and the ZIP directory.
    /// `segments` and `aggregate` (the concatenated encoded hashes) are in segment order.
    ///
    /// # Errors
    /// I/O errors, assertion signing errors.
    pub(crate) fn finish<W: Write>(
        self,
        mut zip: ZipWriter<W>,
        segments: Vec<Segment>,
        aggregate: &[u8],
        plaintext_len: u64,
    ) -> Result<(W, WriteSummary)> {
        zip.finish_streamed()?;
        let root = self.cipher.root_signature(aggregate);
        let assertions = self
            .assertions
            .iter()
            .map(|a| Assertion::signed(a, aggregate, false, self.key.as_bytes()))
            .collect::<Result<Vec<_>>>()?;
        let seg = self.segment_size as u64;
        let manifest = Manifest {
            schema_version: Some(SCHEMA_VERSION.into()),
            tdf_spec_version: None,
            payload: PayloadReference {
                kind: "reference".into(),
                url: PAYLOAD_ENTRY.into(),
                protocol: "zip".into(),
                is_encrypted: true,
                mime_type: Some(self.mime_type),
                tdf_spec_version: None,
            },
            encryption_information: EncryptionInformation {
                kind: "split".into(),
                policy: self.policy_b64,
                key_access: self.key_access,
                // `iv` present and empty: the Go SDK writes it and some readers require the field.
                method: Method {
                    algorithm: "AES-256-GCM".into(),
                    is_streamable: true,
                    iv: Some(String::new()),
                },
                integrity_information: IntegrityInformation {
                    root_signature: RootSignature { alg: "HS256".into(), sig: root },
                    segment_hash_alg: self.hash_alg.as_str().into(),
                    segment_size_default: seg,
                    encrypted_segment_size_default: seg + SEGMENT_OVERHEAD,
                    segments,
                },
            },
            assertions,
        };
        let json = manifest.to_json()?;
        zip.add_entry(MANIFEST_ENTRY, &json)?;
        let (out, container_len) = zip.finish()?;
        Ok((out, WriteSummary { manifest, plaintext_len, container_len }))
    }
}

/// The manifest record of a sealed segment: its hash as encoded before base64, and its stored length.
pub(crate) fn segment_record(hash: &[u8], stored_len: u64) -> Segment {
    Segment {
        hash: crate::b64::encode(hash),
        segment_size: Some(stored_len.saturating_sub(SEGMENT_OVERHEAD)),
        encrypted_segment_size: Some(stored_len),
    }
}

/// Generates one share per split, the payload key as their XOR, and a key access object per target.
fn split_and_wrap(
    targets: &[KasTarget],
    mode: SplitMode,
    policy_b64: &str,
    metadata: Option<&[u8]>,
    rng: &dyn RandomSource,
) -> Result<(PayloadKey, Vec<KeyAccessObject>)> {
    // Split ids: explicit ones are kept; otherwise one per target (all-of) or one shared (any-of).
    let mut sids: Vec<Option<String>> = Vec::with_capacity(targets.len());
    for t in targets {
        sids.push(match (&t.sid, mode) {
            (Some(s), _) => Some(s.clone()),
            (None, SplitMode::AllOf) if targets.len() > 1 => Some(uuid_v4(rng)?),
            (None, _) => None,
        });
    }
    let mut distinct: Vec<Option<String>> = Vec::new();
    for s in &sids {
        if !distinct.contains(s) {
            distinct.push(s.clone());
        }
    }
    let shares = distinct.iter().map(|_| KeyShare::random(rng)).collect::<Result<Vec<_>>>()?;
    let key = PayloadKey::combine(&shares);
    let mut kaos = Vec::with_capacity(targets.len());
    for (t, sid) in targets.iter().zip(sids) {
        let idx = distinct.iter().position(|d| *d == sid).ok_or(Error::Crypto("split bookkeeping"))?;
        let share = shares.get(idx).ok_or(Error::Crypto("split bookkeeping"))?;
        kaos.push(wrap_key_access(share, t, sid, policy_b64, metadata, rng)?);
    }
    Ok((key, kaos))
}
