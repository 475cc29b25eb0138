//! Assertions: statements bound to the object (the confidentiality label travels as a `handling` assertion).
//! The binding is a JWS over `assertionHash` (lower-case hex SHA-256 of the JCS form of the assertion without
//! its binding) and `assertionSig` (base64 of the aggregate segment hashes followed by the raw assertion hash;
//! legacy files: its hex), so an assertion cannot be altered nor moved to another object.

mod jcs;
mod jws;
pub mod label;

use std::collections::HashMap;

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use jcs::canonicalize;
pub use jws::{AssertionSigner, AssertionVerifier};

use crate::b64;
use crate::error::{Error, IntegrityError, Result};
use crate::manifest::nullable;

/// An assertion as it is in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Assertion {
    /// Identifier, unique in the manifest.
    pub id: String,
    /// `handling` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `tdo` or `payload`.
    pub scope: String,
    /// `encrypted` or `unencrypted`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub applies_to_state: Option<String>,
    /// What is asserted.
    pub statement: Statement,
    /// The cryptographic binding.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "nullable")]
    pub binding: Option<Binding>,
}

/// An assertion statement: format, schema and value (a string; some producers put a JSON object there).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Statement {
    /// Encoding of the value (`xml-structured`, `json-structured`, `json+stanag5636`, `string`, ...).
    #[serde(default)]
    pub format: String,
    /// Schema of the value (a URN).
    #[serde(default)]
    pub schema: String,
    /// The value. Written as a string; read as written.
    #[serde(default)]
    pub value: Value,
}

impl Statement {
    /// A statement with a string value.
    #[must_use]
    pub fn new(format: &str, schema: &str, value: &str) -> Self {
        Self { format: format.into(), schema: schema.into(), value: Value::String(value.into()) }
    }

    /// The value as the string that is hashed: a string as is; an object re-serialised compactly with sorted
    /// keys and Go's HTML escaping (how the reference SDKs read object-valued statements).
    #[must_use]
    pub fn value_string(&self) -> String {
        match &self.value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => go_json(other),
        }
    }
}

/// Go's `json.Marshal` of a decoded value: keys sorted byte-wise (explicitly: serde_json's map keeps insertion
/// order when another crate enables its `preserve_order` feature), compact, `<>&` and U+2028/U+2029 escaped.
fn go_json(v: &Value) -> String {
    let mut s = String::new();
    sorted_json(v, &mut s);
    s.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn sorted_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(item) = map.get(k) {
                    sorted_json(item, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                sorted_json(item, out);
            }
            out.push(']');
        }
        leaf => out.push_str(&leaf.to_string()),
    }
}

/// An assertion binding.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Binding {
    /// `jws` (any case).
    pub method: String,
    /// The compact JWS.
    pub signature: String,
}

/// An assertion to write: everything but the binding, and the key that signs it.
#[derive(Debug)]
pub struct AssertionConfig {
    /// Identifier, unique in the manifest.
    pub id: String,
    /// `handling` or `other`.
    pub kind: String,
    /// `tdo` or `payload`.
    pub scope: String,
    /// `encrypted` or `unencrypted`.
    pub applies_to_state: String,
    /// What is asserted.
    pub statement: Statement,
    /// RS256/ES256 signer; `None` signs HS256 with the payload key (the SDKs' default).
    pub signer: Option<AssertionSigner>,
}

/// How assertion bindings are verified on reading.
#[derive(Debug, Default, Clone)]
pub struct AssertionVerification {
    /// Verification keys by assertion id; an assertion without one is verified HS256 with the payload key.
    pub keys: HashMap<String, AssertionVerifier>,
}

impl Assertion {
    /// The lower-case hex SHA-256 of the JCS form of the assertion without its binding, with empty optional
    /// fields left out (as the reference SDKs serialise them).
    ///
    /// # Errors
    /// Only for values JSON cannot carry.
    pub fn hash_hex(&self) -> Result<String> {
        let mut statement = Map::new();
        if !self.statement.format.is_empty() {
            statement.insert("format".into(), Value::String(self.statement.format.clone()));
        }
        if !self.statement.schema.is_empty() {
            statement.insert("schema".into(), Value::String(self.statement.schema.clone()));
        }
        let value = self.statement.value_string();
        if !value.is_empty() {
            statement.insert("value".into(), Value::String(value));
        }
        let mut obj = Map::new();
        obj.insert("id".into(), Value::String(self.id.clone()));
        obj.insert("type".into(), Value::String(self.kind.clone()));
        obj.insert("scope".into(), Value::String(self.scope.clone()));
        if let Some(s) = self.applies_to_state.as_deref().filter(|s| !s.is_empty()) {
            obj.insert("appliesToState".into(), Value::String(s.into()));
        }
        obj.insert("statement".into(), Value::Object(statement));
        let canonical = canonicalize(&Value::Object(obj))?;
        Ok(hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes())))
    }

    /// The expected `assertionSig` claim: base64(aggregate || hash), the hash raw, or hex for legacy files.
    fn expected_sig(aggregate: &[u8], hash_hex: &str, legacy: bool) -> Result<String> {
        let mut buf = aggregate.to_vec();
        if legacy {
            buf.extend_from_slice(hash_hex.as_bytes());
        } else {
            buf.extend_from_slice(&hex::decode(hash_hex).map_err(|_| Error::Crypto("hex"))?);
        }
        Ok(b64::encode(&buf))
    }

    /// Builds and signs an assertion for an object whose aggregate segment hash is `aggregate`.
    ///
    /// # Errors
    /// Crypto failures.
    pub fn signed(
        config: &AssertionConfig,
        aggregate: &[u8],
        legacy: bool,
        payload_key: &[u8],
    ) -> Result<Self> {
        let mut a = Assertion {
            id: config.id.clone(),
            kind: config.kind.clone(),
            scope: config.scope.clone(),
            applies_to_state: Some(config.applies_to_state.clone()),
            statement: config.statement.clone(),
            binding: None,
        };
        let hash = a.hash_hex()?;
        let sig = Self::expected_sig(aggregate, &hash, legacy)?;
        let claims = serde_json::json!({"assertionHash": hash, "assertionSig": sig});
        let dek_signer;
        let signer = match &config.signer {
            Some(s) => s,
            None => {
                dek_signer = AssertionSigner::Hs256(zeroize::Zeroizing::new(payload_key.to_vec()));
                &dek_signer
            }
        };
        a.binding = Some(Binding { method: "jws".into(), signature: jws::sign(&claims, signer)? });
        Ok(a)
    }

    /// Verifies the binding with `verifier`: the JWS signature, then that its claims match this assertion and
    /// this object's aggregate segment hash.
    ///
    /// # Errors
    /// [`IntegrityError::Assertion`] naming the assertion and what failed.
    pub fn verify(
        &self,
        aggregate: &[u8],
        legacy: bool,
        verifier: &AssertionVerifier,
    ) -> Result<(), IntegrityError> {
        let fail = |reason: &str| IntegrityError::Assertion { id: self.id.clone(), reason: reason.into() };
        let binding = self.binding.as_ref().ok_or_else(|| fail("it has no binding"))?;
        if !binding.method.eq_ignore_ascii_case("jws") {
            return Err(fail(&format!("unsupported binding method `{}`", binding.method)));
        }
        let claims = jws::verify(&binding.signature, verifier).map_err(|r| fail(&r))?;
        let claimed_hash = claims
            .get("assertionHash")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("no `assertionHash` claim"))?;
        let claimed_sig = claims
            .get("assertionSig")
            .and_then(Value::as_str)
            .ok_or_else(|| fail("no `assertionSig` claim"))?;
        let hash = self.hash_hex().map_err(|_| fail("it cannot be canonicalised"))?;
        if claimed_hash != hash {
            return Err(fail("its content does not match the signed hash (modified)"));
        }
        let expected = Self::expected_sig(aggregate, &hash, legacy).map_err(|_| fail("internal"))?;
        if claimed_sig != expected {
            return Err(fail(
                "it is not bound to this payload (moved from another object or payload changed)",
            ));
        }
        Ok(())
    }
}
