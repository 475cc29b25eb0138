//! The rewrap request body (the `requestBody` claim of the signed request token), as the OpenTDF SDKs write it
//! (protojson of `kas.UnsignedRewrapRequest`):
//!
//! ```json
//! {"clientPublicKey": "-----BEGIN PUBLIC KEY-----…",
//!  "requests": [{"policy": {"id": "policy-0", "body": "<base64 policy, exactly as in the manifest>"},
//!                "keyAccessObjects": [{"keyAccessObjectId": "kao-0", "keyAccessObject": {…}}],
//!                "algorithm": "rsa:2048"}]}
//! ```
//!
//! Strict JSON (a member twice anywhere refuses the body), bounded before it is read ([`MAX_BODY_BYTES`]) and
//! after ([`MAX_POLICIES`], [`MAX_KAOS_PER_POLICY`], [`MAX_KAOS`], [`MAX_ID_BYTES`]); ids are non-empty and
//! unique (policy ids in the body, key access object ids in their policy), since results are matched to requests
//! by them. Unknown members are ignored (the SDKs add some, such as the deprecated single-object `keyAccess`
//! form, which this KAS does not serve: `requests` is required), but every known member's type is checked.

use redoubt_oidc::{JsonError, parse_object};
use redoubt_ztdf::manifest::KeyAccessObject;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{KasError, quote};

/// Largest request body, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most policy requests in one body.
pub const MAX_POLICIES: usize = 64;
/// Most key access objects in one policy request.
pub const MAX_KAOS_PER_POLICY: usize = 32;
/// Most key access objects in one body, over all its policies.
pub const MAX_KAOS: usize = 256;
/// Longest policy or key access object id, in bytes.
pub const MAX_ID_BYTES: usize = 256;

/// A parsed, bounded rewrap request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestBody {
    /// The key to rewrap to: an SPKI PEM (`PUBLIC KEY`), RSA or EC. Read by [`crate::ClientKey::from_pem`].
    pub client_public_key: String,
    /// One entry per policy, each with the key access objects that policy protects.
    pub requests: Vec<PolicyRequest>,
}

/// The key access objects of one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRequest {
    /// The policy they are bound to.
    pub policy: PolicyRef,
    /// The objects to rewrap.
    pub key_access_objects: Vec<KaoRequest>,
    /// The key algorithm the client expects (`rsa:2048`, `ec:secp256r1`, …), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
}

/// A policy, named for the response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// The client's name for it, echoed as `policyId` in the response.
    pub id: String,
    /// The base64 policy exactly as in the manifest (its binding is computed over this string).
    pub body: String,
}

/// One key access object to rewrap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KaoRequest {
    /// The client's name for it, echoed in the response.
    #[serde(rename = "keyAccessObjectId")]
    pub id: String,
    /// The object, as in the manifest.
    pub key_access_object: KeyAccessObject,
}

impl RequestBody {
    /// Parses and bounds a request body.
    ///
    /// # Errors
    /// [`KasError::BodyTooLarge`], [`KasError::BodyMalformed`], [`KasError::BodyLimit`],
    /// [`KasError::DuplicateId`].
    pub fn parse(json: &str) -> Result<RequestBody, KasError> {
        if json.len() > MAX_BODY_BYTES {
            return Err(KasError::BodyTooLarge { size: json.len(), limit: MAX_BODY_BYTES });
        }
        let mut top = parse_object(json.as_bytes()).map_err(|e| match e {
            JsonError::Duplicate(name) => {
                malformed(format!("the member {} appears twice in one object", quote(&name)))
            }
            JsonError::Syntax(detail) => malformed(format!("not a JSON object: {detail}")),
        })?;
        let client_public_key = match top.remove("clientPublicKey") {
            Some(Value::String(pem)) if !pem.is_empty() => pem,
            Some(Value::String(_)) | None => {
                return Err(malformed("`clientPublicKey` is missing".to_owned()));
            }
            Some(_) => return Err(malformed("`clientPublicKey` is not a string".to_owned())),
        };
        let requests = match top.remove("requests") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err(malformed("`requests` is not an array".to_owned())),
            None => {
                return Err(malformed(
                    "`requests` is missing (the single-object v1 form is not served)".to_owned(),
                ));
            }
        };
        if requests.is_empty() {
            return Err(malformed("`requests` is empty".to_owned()));
        }
        limit("policy requests", requests.len(), MAX_POLICIES)?;
        let kaos = requests
            .iter()
            .map(|r| r.get("keyAccessObjects").and_then(Value::as_array).map_or(0, Vec::len))
            .sum();
        limit("key access objects", kaos, MAX_KAOS)?;
        let requests = requests
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                serde_json::from_value::<PolicyRequest>(r)
                    .map_err(|e| malformed(format!("request {i} is not a policy request: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = RequestBody { client_public_key, requests };
        body.check()?;
        Ok(body)
    }

    /// The body as JSON, for the client to sign into a request token.
    ///
    /// # Errors
    /// [`KasError::BodyMalformed`] only if serialisation fails, which plain data does not.
    pub fn to_json(&self) -> Result<String, KasError> {
        serde_json::to_string(self).map_err(|e| malformed(format!("cannot serialise: {e}")))
    }

    /// Number of key access objects over all policies.
    #[must_use]
    pub fn kao_count(&self) -> usize {
        self.requests.iter().map(|r| r.key_access_objects.len()).sum()
    }

    /// The bounds and id rules, on the typed body.
    fn check(&self) -> Result<(), KasError> {
        let mut policy_ids = std::collections::HashSet::new();
        for r in &self.requests {
            check_id(&r.policy.id, "policy")?;
            if !policy_ids.insert(r.policy.id.as_str()) {
                return Err(KasError::DuplicateId { what: "policy", id: quote(&r.policy.id) });
            }
            if r.key_access_objects.is_empty() {
                return Err(malformed(format!("policy {} has no key access objects", quote(&r.policy.id))));
            }
            limit("key access objects in one policy", r.key_access_objects.len(), MAX_KAOS_PER_POLICY)?;
            let mut kao_ids = std::collections::HashSet::new();
            for k in &r.key_access_objects {
                check_id(&k.id, "key access object")?;
                if !kao_ids.insert(k.id.as_str()) {
                    return Err(KasError::DuplicateId { what: "key access object", id: quote(&k.id) });
                }
            }
        }
        Ok(())
    }
}

fn check_id(id: &str, what: &str) -> Result<(), KasError> {
    if id.is_empty() {
        return Err(malformed(format!("a {what} id is empty")));
    }
    if id.len() > MAX_ID_BYTES {
        return Err(malformed(format!(
            "the {what} id {} is {} bytes, more than the {MAX_ID_BYTES} allowed",
            quote(id),
            id.len()
        )));
    }
    Ok(())
}

fn limit(what: &'static str, count: usize, limit: usize) -> Result<(), KasError> {
    if count > limit { Err(KasError::BodyLimit { what, count, limit }) } else { Ok(()) }
}

fn malformed(problem: String) -> KasError {
    KasError::BodyMalformed { problem }
}
