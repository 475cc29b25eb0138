//! The rewrap response, as the OpenTDF platform writes it (protojson of `kas.RewrapResponse`):
//!
//! ```json
//! {"responses": [{"policyId": "policy-0",
//!                 "results": [{"keyAccessObjectId": "kao-0", "status": "permit", "kasWrappedKey": "<base64>"},
//!                             {"keyAccessObjectId": "kao-1", "status": "fail", "error": "forbidden"}]}],
//!  "sessionPublicKey": "-----BEGIN PUBLIC KEY-----…"}
//! ```
//!
//! The server builds it ([`RewrapResponse::to_json`]); the client parses it ([`RewrapResponse::parse`]: strict
//! JSON, bounded, unknown members such as `metadata` ignored).

use redoubt_oidc::{JsonError, parse_object};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{KasError, quote};

/// Largest response a client reads, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;

/// A rewrap response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RewrapResponse {
    /// One entry per policy request.
    pub responses: Vec<PolicyResults>,
    /// The session public key (SPKI PEM), for an EC client key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_public_key: Option<String>,
}

/// The results of one policy request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyResults {
    /// The policy id of the request.
    pub policy_id: String,
    /// One result per key access object.
    #[serde(default)]
    pub results: Vec<KaoResult>,
}

/// The result of one key access object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KaoResult {
    /// The key access object id of the request.
    #[serde(rename = "keyAccessObjectId")]
    pub kao_id: String,
    /// Permit with the wrapped share, or fail with a reason.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What the KAS answered for one key access object. Wire form: `status` with `kasWrappedKey` or `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Outcome {
    /// `"status": "permit"`.
    Permit {
        /// Standard base64 of the share wrapped to the client key.
        #[serde(rename = "kasWrappedKey")]
        wrapped_key: String,
    },
    /// `"status": "fail"`.
    Fail {
        /// Why, for the client (no secrets, no internal detail).
        #[serde(default)]
        error: String,
    },
}

impl RewrapResponse {
    /// The response as JSON.
    ///
    /// # Errors
    /// [`KasError::ResponseMalformed`] only if serialisation fails, which plain data does not.
    pub fn to_json(&self) -> Result<String, KasError> {
        serde_json::to_string(self).map_err(|e| malformed(format!("cannot serialise: {e}")))
    }

    /// Parses a response (client side).
    ///
    /// # Errors
    /// [`KasError::ResponseMalformed`] when it is too large, not strict JSON, or not of the shape above.
    pub fn parse(json: &str) -> Result<RewrapResponse, KasError> {
        if json.len() > MAX_RESPONSE_BYTES {
            return Err(malformed(format!(
                "it is {} bytes, more than the {MAX_RESPONSE_BYTES} allowed",
                json.len()
            )));
        }
        let map = parse_object(json.as_bytes()).map_err(|e| match e {
            JsonError::Duplicate(name) => {
                malformed(format!("the member {} appears twice in one object", quote(&name)))
            }
            JsonError::Syntax(detail) => malformed(format!("not a JSON object: {detail}")),
        })?;
        serde_json::from_value(Value::Object(map)).map_err(|e| malformed(e.to_string()))
    }
}

fn malformed(problem: String) -> KasError {
    KasError::ResponseMalformed { problem }
}
