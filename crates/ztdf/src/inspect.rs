//! `inspect`: what a container says about itself, without any key and without decrypting: manifest summary,
//! policy, key access objects, assertions (and which label form they carry), and the result of every
//! structural check. Problems are reported as findings; only an unreadable ZIP or manifest is an error.

use std::io::{Read, Seek};

use serde::Serialize;

use redoubt_label::Spif;

use crate::assertion::label::{label_form, read_label};
use crate::error::Result;
use crate::layout::check;
use crate::limits::ReadLimits;
use crate::manifest::Manifest;
use crate::policy::Policy;
use crate::reader::{load_manifest, payload_entry};

/// The result of inspecting a container.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    /// `schemaVersion`, or `tdf_spec_version`, when present.
    pub schema_version: Option<String>,
    /// True for legacy (hex-encoded hashes) containers.
    pub legacy: bool,
    /// MIME type of the plaintext.
    pub mime_type: Option<String>,
    /// Payload entry size in bytes, when found.
    pub payload_bytes: Option<u64>,
    /// Plaintext size declared by the segments, when the structure checks out.
    pub plaintext_bytes: Option<u64>,
    /// Number of segments.
    pub segments: usize,
    /// Default plaintext segment size.
    pub segment_size: u64,
    /// Segment hash algorithm.
    pub segment_hash_alg: String,
    /// Root signature algorithm.
    pub root_signature_alg: String,
    /// The policy, when it decodes.
    pub policy: Option<Policy>,
    /// Key access objects.
    pub key_access: Vec<KeyAccessSummary>,
    /// Assertions.
    pub assertions: Vec<AssertionSummary>,
    /// Structural checks (name, passed, detail).
    pub checks: Vec<Check>,
}

/// One key access object, as inspected.
#[derive(Debug, Clone, Serialize)]
pub struct KeyAccessSummary {
    /// `wrapped` or `ec-wrapped`.
    pub kind: String,
    /// KAS URL.
    pub url: String,
    /// Key id.
    pub kid: Option<String>,
    /// Split id (empty: the single split).
    pub sid: String,
    /// Whether it carries encrypted metadata.
    pub encrypted_metadata: bool,
    /// `hex` or `raw` binding encoding, or `invalid`.
    pub binding_form: String,
}

/// One assertion, as inspected.
#[derive(Debug, Clone, Serialize)]
pub struct AssertionSummary {
    /// Id.
    pub id: String,
    /// `handling` or `other`.
    pub kind: String,
    /// `tdo` or `payload`.
    pub scope: String,
    /// Statement format.
    pub format: String,
    /// Statement schema.
    pub schema: String,
    /// The label form carried, when it is a label.
    pub label_form: Option<String>,
    /// The statement value as hashed (a label's text).
    pub value: String,
    /// JWS algorithm of the binding, when readable.
    pub binding_alg: Option<String>,
    /// The label it carries (compact JSON of the label crate), when it parses. Unverified: inspect has no key.
    pub label: Option<serde_json::Value>,
    /// Why the label does not parse, when it claims to be one.
    pub label_error: Option<String>,
    /// The label's display marking under the SPIF given to [`inspect_with_spif`].
    pub marking: Option<String>,
}

/// One structural check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// The error when it failed.
    pub detail: Option<String>,
}

fn check_entry(name: &str, r: Result<()>) -> Check {
    match r {
        Ok(()) => Check { name: name.into(), ok: true, detail: None },
        Err(e) => Check { name: name.into(), ok: false, detail: Some(e.to_string()) },
    }
}

/// Inspects a container without keys.
///
/// # Errors
/// Only when the ZIP or the manifest cannot be read at all.
pub fn inspect<R: Read + Seek>(source: R) -> Result<Inspection> {
    inspect_with_spif(source, None)
}

/// Inspects a container without keys, and renders each label's marking under `spif`.
///
/// # Errors
/// Only when the ZIP or the manifest cannot be read at all.
pub fn inspect_with_spif<R: Read + Seek>(mut source: R, spif: Option<&Spif>) -> Result<Inspection> {
    let limits = ReadLimits::default();
    let (m, entries) = load_manifest(&mut source, &limits)?;
    let payload = payload_entry(&m, &entries);
    let mut checks = Vec::new();
    let mut plaintext_bytes = None;
    checks.push(check_entry("payload entry", payload.as_ref().map(|_| ()).map_err(clone_err)));
    if let Ok(p) = payload {
        let layout = check(&m, p.data_offset, p.size, &limits);
        plaintext_bytes = layout.as_ref().ok().map(|l| l.plaintext_len);
        checks.push(check_entry("segments and sizes", layout.map(|_| ())));
    }
    let policy = Policy::from_base64(&m.encryption_information.policy);
    checks.push(check_entry("policy", policy.as_ref().map(|_| ()).map_err(clone_err)));
    Ok(summarise(&m, payload.ok().map(|p| p.size), plaintext_bytes, policy.ok(), checks, spif))
}

fn clone_err(e: &crate::error::Error) -> crate::error::Error {
    crate::error::Error::Manifest(e.to_string())
}

fn binding_form(hash_b64: &str) -> String {
    match crate::b64::decode(hash_b64, "binding") {
        Ok(b) if b.len() == 64 && b.iter().all(u8::is_ascii_hexdigit) => "hex".into(),
        Ok(b) if b.len() == 32 => "raw".into(),
        _ => "invalid".into(),
    }
}

fn jws_alg(token: &str) -> Option<String> {
    let h = token.split('.').next()?;
    let json = crate::b64::decode_url(h, "jws").ok()?;
    let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
    v.get("alg")?.as_str().map(str::to_owned)
}

fn summarise(
    m: &Manifest,
    payload_bytes: Option<u64>,
    plaintext_bytes: Option<u64>,
    policy: Option<Policy>,
    checks: Vec<Check>,
    spif: Option<&Spif>,
) -> Inspection {
    let ei = &m.encryption_information;
    let ii = &ei.integrity_information;
    Inspection {
        schema_version: m.schema_version.clone().or_else(|| m.tdf_spec_version.clone()),
        legacy: m.is_legacy(),
        mime_type: m.payload.mime_type.clone(),
        payload_bytes,
        plaintext_bytes,
        segments: ii.segments.len(),
        segment_size: ii.segment_size_default,
        segment_hash_alg: ii.segment_hash_alg.clone(),
        root_signature_alg: ii.root_signature.alg.clone(),
        policy,
        key_access: ei
            .key_access
            .iter()
            .map(|k| KeyAccessSummary {
                kind: k.kind.clone(),
                url: k.url.clone(),
                kid: k.kid.clone(),
                sid: k.split_id().into(),
                encrypted_metadata: k.encrypted_metadata.as_deref().is_some_and(|s| !s.is_empty()),
                binding_form: binding_form(k.policy_binding.hash()),
            })
            .collect(),
        assertions: m
            .assertions
            .iter()
            .map(|a| {
                let parsed = read_label(&a.statement);
                let label = parsed.as_ref().ok().and_then(Option::as_ref).map(|(_, l)| l);
                AssertionSummary {
                    id: a.id.clone(),
                    kind: a.kind.clone(),
                    scope: a.scope.clone(),
                    format: a.statement.format.clone(),
                    schema: a.statement.schema.clone(),
                    label_form: label_form(&a.statement).map(|f| f.as_str().to_owned()),
                    value: a.statement.value_string(),
                    binding_alg: a.binding.as_ref().and_then(|b| jws_alg(&b.signature)),
                    label: label
                        .and_then(|l| l.to_compact_json().ok())
                        .and_then(|j| serde_json::from_str(&j).ok()),
                    label_error: parsed.as_ref().err().map(ToString::to_string),
                    marking: match (spif, label) {
                        (Some(s), Some(l)) => {
                            Some(s.marking(l, "en").unwrap_or_else(|e| format!("(no marking: {e})")))
                        }
                        _ => None,
                    },
                }
            })
            .collect(),
        checks,
    }
}
