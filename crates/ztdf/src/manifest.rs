//! The manifest (`0.manifest.json`) as it is on the wire, with the leniency the world's files need: a missing
//! `schemaVersion` (legacy, hex-encoded hashes), `tdf_spec_version` instead, `IsStreamable`, `null` where a
//! field is absent, a bare-string policy binding, `JWS` in capitals. Parsed with a size bound by the reader;
//! everything here is data — the checks live in the reader, the policy, key and assertion modules.

use serde::{Deserialize, Deserializer, Serialize};

use crate::assertion::Assertion;
use crate::error::{Error, Result};

/// The manifest of a ZTDF object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Spec version; absent in legacy files, whose hashes are hex-encoded.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub schema_version: Option<String>,
    /// Version field some writers used instead of `schemaVersion` (informational).
    #[serde(
        rename = "tdf_spec_version",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub tdf_spec_version: Option<String>,
    /// Where the payload is.
    pub payload: PayloadReference,
    /// Keys, policy, method and integrity information.
    pub encryption_information: EncryptionInformation,
    /// Assertions bound to the object.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable_vec")]
    pub assertions: Vec<Assertion>,
}

impl Manifest {
    /// Parses a manifest from JSON bytes (the caller bounds their length).
    ///
    /// # Errors
    /// [`Error::Manifest`] naming what is malformed.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        serde_json::from_slice(bytes).map_err(|e| Error::Manifest(format!("not valid manifest JSON: {e}")))
    }

    /// Serialises the manifest as compact JSON.
    ///
    /// # Errors
    /// [`Error::Crypto`] never in practice (serialising plain data cannot fail).
    pub fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| Error::Crypto("manifest serialisation"))
    }

    /// True for a legacy manifest (no `schemaVersion`): hashes and signatures are hex strings in base64.
    #[must_use]
    pub fn is_legacy(&self) -> bool {
        self.schema_version.as_deref().is_none_or(str::is_empty)
    }
}

/// The `payload` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PayloadReference {
    /// Always `reference`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Name of the payload entry in the ZIP (`0.payload`).
    pub url: String,
    /// Always `zip`.
    pub protocol: String,
    /// Always true for ZTDF.
    #[serde(default = "yes")]
    pub is_encrypted: bool,
    /// MIME type of the plaintext.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub mime_type: Option<String>,
    /// Misplaced version field found in some files (informational).
    #[serde(
        rename = "tdf_spec_version",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "nullable"
    )]
    pub tdf_spec_version: Option<String>,
}

fn yes() -> bool {
    true
}

/// The `encryptionInformation` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionInformation {
    /// Always `split`.
    #[serde(rename = "type", default = "split")]
    pub kind: String,
    /// Base64 of the policy JSON; bindings are computed over this exact string.
    pub policy: String,
    /// Key access objects.
    #[serde(deserialize_with = "nullable_vec", default)]
    pub key_access: Vec<KeyAccessObject>,
    /// Payload encryption method.
    pub method: Method,
    /// Segment hashes and root signature.
    pub integrity_information: IntegrityInformation,
}

fn split() -> String {
    "split".into()
}

/// The `method` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Method {
    /// Always `AES-256-GCM`.
    pub algorithm: String,
    /// Always true for ZTDF (segmented).
    #[serde(alias = "IsStreamable", default = "yes")]
    pub is_streamable: bool,
    /// Legacy whole-payload IV; segments carry their own IVs. Written empty, as the Go SDK does.
    #[serde(default, deserialize_with = "nullable")]
    pub iv: Option<String>,
}

/// The `integrityInformation` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct IntegrityInformation {
    /// HMAC over the concatenated segment hashes.
    pub root_signature: RootSignature,
    /// `GMAC` or `HS256`.
    pub segment_hash_alg: String,
    /// Default plaintext segment size.
    pub segment_size_default: u64,
    /// Default stored segment size (`segmentSizeDefault + 28`).
    pub encrypted_segment_size_default: u64,
    /// One entry per segment.
    #[serde(deserialize_with = "nullable_vec", default)]
    pub segments: Vec<Segment>,
}

/// The `rootSignature` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RootSignature {
    /// Always `HS256` (other values are refused on reading).
    pub alg: String,
    /// Base64 of the signature (legacy: of its hex string).
    pub sig: String,
}

/// One segment's entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Segment {
    /// Base64 of the segment hash (legacy: of its hex string).
    pub hash: String,
    /// Plaintext size; absent means the default.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub segment_size: Option<u64>,
    /// Stored size; absent means the default.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub encrypted_segment_size: Option<u64>,
}

/// A key access object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyAccessObject {
    /// `wrapped` or `ec-wrapped` (others are reported as unsupported).
    #[serde(rename = "type")]
    pub kind: String,
    /// KAS URL.
    pub url: String,
    /// Always `kas`.
    #[serde(default = "kas")]
    pub protocol: String,
    /// Base64 of the wrapped key share.
    pub wrapped_key: String,
    /// HMAC of the policy under the key share.
    pub policy_binding: PolicyBinding,
    /// Base64 of the encrypted metadata, when any.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub encrypted_metadata: Option<String>,
    /// Key identifier at the KAS.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub kid: Option<String>,
    /// Split identifier: objects with the same `sid` are alternatives, distinct ones are XOR shares.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub sid: Option<String>,
    /// Key access object schema version.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub schema_version: Option<String>,
    /// The ephemeral public key (SPKI PEM), `ec-wrapped` only.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub ephemeral_public_key: Option<String>,
}

impl KeyAccessObject {
    /// The split this object belongs to: absent and empty `sid` are the same split.
    #[must_use]
    pub fn split_id(&self) -> &str {
        self.sid.as_deref().unwrap_or("")
    }
}

fn kas() -> String {
    "kas".into()
}

/// A policy binding: the object form, or a bare string in old files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum PolicyBinding {
    /// `{"alg": "HS256", "hash": "<b64>"}`.
    Object {
        /// Always `HS256`.
        alg: String,
        /// Base64 of the HMAC (hex form or raw).
        hash: String,
    },
    /// A bare base64 string (old files).
    Bare(String),
}

impl PolicyBinding {
    /// The base64 hash, whichever form.
    #[must_use]
    pub fn hash(&self) -> &str {
        match self {
            PolicyBinding::Object { hash, .. } | PolicyBinding::Bare(hash) => hash,
        }
    }

    /// The algorithm (`HS256` for the bare form).
    #[must_use]
    pub fn alg(&self) -> &str {
        match self {
            PolicyBinding::Object { alg, .. } => alg,
            PolicyBinding::Bare(_) => "HS256",
        }
    }
}

/// `null` reads as absent.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// `null` reads as empty.
pub(crate) fn nullable_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}
