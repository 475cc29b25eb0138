//! The records of the log (schema version 1) and their JSON line form.
//!
//! A log file is one header line followed by decision and checkpoint lines, each a JSON object on one line
//! terminated by `\n`, tagged by `kind`. The JSON is written in exactly one form (field order as declared here,
//! no whitespace, times in UTC RFC 3339): a reader re-encodes every line it parses and rejects any line that
//! differs, so every byte of the file is covered by the hash chain. The hash itself is taken over the separate
//! binary form of [`crate::canonical`], never over the JSON text.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// `format` value of the header line. Do not change: it identifies every log ever written.
pub const FORMAT: &str = "redoubt-audit";
/// Schema version written in every line. Do not change the meaning of version 1: bump it for a new schema and
/// keep reading the old one.
pub const VERSION: u32 = 1;

/// A SHA-256 hash of one record (the chain link), hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest(pub [u8; 32]);

/// The random identity of one log, fixed in its header, bound into every hash and every checkpoint signature
/// (so a checkpoint cannot be moved to another log signed by the same key).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogId(pub [u8; 16]);

/// SHA-256 of the DER SubjectPublicKeyInfo of the key that signs checkpoints.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 32]);

/// An ECDSA P-256 SHA-256 signature in the fixed 64-byte `r || s` form, base64 in JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature(pub Vec<u8>);

macro_rules! hex_newtype {
    ($t:ident, $n:expr) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), self)
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                // Lower-case only: one text form per value.
                if s.bytes().any(|b| b.is_ascii_uppercase()) {
                    return Err(format!("`{s}` is not lower-case hex"));
                }
                let mut out = [0u8; $n];
                hex::decode_to_slice(s, &mut out).map_err(|_| format!("`{s}` is not {} hex bytes", $n))?;
                Ok(Self(out))
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
hex_newtype!(Digest, 32);
hex_newtype!(LogId, 16);
hex_newtype!(KeyId, 32);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(&self.0))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if s.len() > 512 {
            return Err(serde::de::Error::custom("the signature is too long"));
        }
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map(Signature)
            .map_err(|_| serde::de::Error::custom("the signature is not base64"))
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The request was allowed.
    Allow,
    /// The request was denied.
    Deny,
}

/// Who asked: the authenticated identity and the role it acted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Who {
    /// Identity name.
    pub name: String,
    /// Role, e.g. `reader` or `auditor`.
    pub role: String,
}

/// What the request was about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum Object {
    /// A bucket, or an object in it.
    Object {
        /// Bucket name.
        bucket: String,
        /// Object key; absent for bucket-level actions.
        key: Option<String>,
    },
    /// A live or recorded video stream.
    Stream {
        /// Stream id.
        id: String,
    },
}

impl Object {
    /// The path that `--object-prefix` matches: `bucket`, `bucket/key`, or `stream:id`.
    #[must_use]
    pub fn path(&self) -> String {
        match self {
            Object::Object { bucket, key: None } => bucket.clone(),
            Object::Object { bucket, key: Some(key) } => format!("{bucket}/{key}"),
            Object::Stream { id } => format!("stream:{id}"),
        }
    }
}

/// The security label of the object, by reference: its display marking and policy id, never the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelRef {
    /// Display marking, e.g. `NATO SECRET`.
    pub marking: String,
    /// Security policy id (OID or name).
    pub policy_id: String,
}

/// One access decision, as the node hands it to [`crate::AuditWriter::append`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The request's id (shared with logs and the response).
    pub request_id: String,
    /// The decision's id (returned to the caller in a denial).
    pub decision_id: String,
    /// The subject.
    pub who: Who,
    /// The device the request came from (certificate fingerprint or device id), when known.
    pub device: Option<String>,
    /// The action, e.g. `s3:GetObject`.
    pub action: String,
    /// The target, when there is one.
    pub object: Option<Object>,
    /// The target's label, when it has one and the decision looked at it.
    pub label: Option<LabelRef>,
    /// The outcome.
    pub decision: Decision,
    /// The rules that decided, by name.
    pub reasons: Vec<String>,
    /// The policies evaluated.
    pub policy_ids: Vec<String>,
}

/// The first line of a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// Schema version.
    pub v: u32,
    /// This log's id.
    pub log_id: LogId,
    /// When the log was created.
    #[serde(with = "rfc3339")]
    pub created: OffsetDateTime,
}

/// A decision as stored: the entry, its place in the chain and its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    /// Schema version.
    pub v: u32,
    /// Sequence number: 0 for the first line after the header, then +1 for every line.
    pub seq: u64,
    /// When the decision was made (UTC).
    #[serde(with = "rfc3339")]
    pub time: OffsetDateTime,
    /// The decision.
    pub entry: Entry,
    /// Hash of the previous line (of the header for sequence 0).
    pub prev: Digest,
}

/// A signed statement by the node key: "this log's chain up to `prev`, `seq` lines, is mine".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Schema version.
    pub v: u32,
    /// Sequence number of this line.
    pub seq: u64,
    /// When it was signed (UTC).
    #[serde(with = "rfc3339")]
    pub time: OffsetDateTime,
    /// Which key signed.
    pub key_id: KeyId,
    /// Hash of the previous line: the chain head this checkpoint signs.
    pub prev: Digest,
    /// ECDSA P-256 SHA-256 over [`crate::canonical::checkpoint_message`].
    pub sig: Signature,
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[expect(
    clippy::large_enum_variant,
    reason = "decisions are nearly every line; boxing them would only add an allocation"
)]
pub enum Line {
    /// The first line.
    Header(Header),
    /// An access decision.
    Decision(DecisionRecord),
    /// A signed checkpoint.
    Checkpoint(Checkpoint),
}

impl Line {
    /// Sequence number (none for the header).
    #[must_use]
    pub fn seq(&self) -> Option<u64> {
        match self {
            Line::Header(_) => None,
            Line::Decision(d) => Some(d.seq),
            Line::Checkpoint(c) => Some(c.seq),
        }
    }

    /// Hash of the previous line (none for the header).
    #[must_use]
    pub fn prev(&self) -> Option<Digest> {
        match self {
            Line::Header(_) => None,
            Line::Decision(d) => Some(d.prev),
            Line::Checkpoint(c) => Some(c.prev),
        }
    }
}

/// Times as UTC RFC 3339 text. A time with another offset is refused on read (it would re-encode differently).
mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let t = OffsetDateTime::parse(&s, &Rfc3339)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an RFC 3339 time")))?;
        // One text per instant: the hash covers the instant, so the text must not vary.
        if !t.offset().is_utc() {
            return Err(serde::de::Error::custom(format!("`{s}` is not in UTC")));
        }
        Ok(t)
    }
}
