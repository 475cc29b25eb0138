//! The policy object (uuid, data attributes, dissemination list) and its binding to each key share:
//! `base64(hex(HMAC-SHA256(share, policy_base64)))`, computed over the policy string exactly as it appears in
//! the manifest. Written in the hex form every SDK writes; both the hex and the raw form verify.

use aws_lc_rs::{constant_time, hmac};
use serde::{Deserialize, Serialize};

use crate::b64;
use crate::error::{Error, IntegrityError, Result};
use crate::manifest::{PolicyBinding, nullable_vec};

/// The policy an object carries: who may have its key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct Policy {
    /// Policy identifier.
    pub uuid: String,
    /// Attributes and dissemination list.
    pub body: PolicyBody,
}

/// The policy body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBody {
    /// Attribute values (FQNs) the object is tagged with.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub data_attributes: Vec<AttributeValue>,
    /// Entities the object may be disseminated to.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub dissem: Vec<String>,
}

/// One data attribute. Readers keep only the FQN; other fields old writers added are ignored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AttributeValue {
    /// `https://<namespace>/attr/<name>/value/<value>`.
    pub attribute: String,
}

impl Policy {
    /// Parses the base64 policy string of a manifest.
    ///
    /// # Errors
    /// [`Error::Manifest`] when it is not base64 of a policy JSON object.
    pub fn from_base64(policy_b64: &str) -> Result<Self> {
        let json = b64::decode(policy_b64, "the policy")?;
        serde_json::from_slice(&json).map_err(|e| Error::Manifest(format!("the policy is not valid: {e}")))
    }

    /// The base64 string written into the manifest.
    ///
    /// # Errors
    /// Never in practice (serialising plain data).
    pub fn to_base64(&self) -> Result<String> {
        let json = serde_json::to_vec(self).map_err(|_| Error::Crypto("policy serialisation"))?;
        Ok(b64::encode(&json))
    }
}

/// The policy binding to write for a key share: the hex form, as every SDK writes it.
#[must_use]
pub fn policy_binding(share: &[u8], policy_b64: &str) -> PolicyBinding {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, share), policy_b64.as_bytes());
    PolicyBinding::Object { alg: "HS256".into(), hash: b64::encode(hex::encode(tag.as_ref()).as_bytes()) }
}

/// Verifies a key access object's policy binding against the policy string, in constant time; accepts the hex
/// form and the raw form the spec text describes. Reusable by a KAS before it rewraps a share.
///
/// # Errors
/// [`IntegrityError::PolicyBinding`] when it does not match (`index` and `url` name the object in messages).
pub fn verify_policy_binding(
    share: &[u8],
    policy_b64: &str,
    binding: &PolicyBinding,
    index: usize,
    url: &str,
) -> Result<(), IntegrityError> {
    let fail = || IntegrityError::PolicyBinding { index, url: url.to_owned() };
    if !binding.alg().eq_ignore_ascii_case("HS256") {
        return Err(fail());
    }
    let given = b64::decode(binding.hash(), "the policy binding").map_err(|_| fail())?;
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, share), policy_b64.as_bytes());
    let hex_form = hex::encode(tag.as_ref());
    let ok = if given.len() == hex_form.len() {
        // Hex may be written in either case by some producers.
        let lower = given.to_ascii_lowercase();
        constant_time::verify_slices_are_equal(&lower, hex_form.as_bytes()).is_ok()
    } else {
        constant_time::verify_slices_are_equal(&given, tag.as_ref()).is_ok()
    };
    if ok { Ok(()) } else { Err(fail()) }
}
