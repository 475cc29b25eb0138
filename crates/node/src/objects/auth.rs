//! Who is calling the S3 API: the SigV4 access key (s3s checks the signature with the secret from
//! [`Keys`]), else the client certificate. When both are present they must name the same identity.

use std::sync::Arc;

use base64::Engine as _;
use redoubt_policy::{Posture, Subject};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};
use serde::Deserialize;

use crate::identities::Registry;
use crate::identity::PeerCert;
use crate::objects::Caller;

/// Secret keys by access key id, from the live registry (a revoked key fails on the next request).
#[derive(Debug, Clone)]
pub struct Keys(pub Arc<Registry>);

#[async_trait::async_trait]
impl S3Auth for Keys {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.by_access_key(access_key) {
            Some((_, secret)) => Ok(SecretKey::from(secret.as_str())),
            None => Err(s3_error!(InvalidAccessKeyId, "unknown or revoked access key")),
        }
    }
}

/// Resolves the caller of every S3 request into a [`Caller`] in the request's extensions.
#[derive(Debug, Clone)]
pub struct Access(pub Arc<Registry>);

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let cert = cx.extensions_mut().get::<PeerCert>().and_then(|p| p.0.clone());
        let by_cert = cert.as_deref().and_then(|fp| self.0.by_fingerprint(fp));
        let (principal, authn) = match cx.credentials() {
            Some(creds) => {
                let Some((principal, _)) = self.0.by_access_key(&creds.access_key) else {
                    return Err(s3_error!(InvalidAccessKeyId, "unknown or revoked access key"));
                };
                if let Some(other) = &by_cert
                    && other.name != principal.name
                {
                    return Err(s3_error!(
                        AccessDenied,
                        "the client certificate and the access key belong to different identities"
                    ));
                }
                (principal, "sigv4")
            }
            None => {
                match (cx.extensions_mut().get::<crate::tokens::TokenPeer>().map(|t| t.0.clone()), by_cert) {
                    // A token names the user; a certificate alongside it is the device it came from.
                    (Some(p), _) => (p, "jwt"),
                    (None, Some(p)) => (p, "mtls"),
                    (None, None) => {
                        return Err(s3_error!(
                            AccessDenied,
                            "authentication required: sign the request (SigV4) with an access key from `redoubt \
                         identity create`, or present a client certificate issued by this node"
                        ));
                    }
                }
            }
        };
        let posture = posture(cx.headers(), &self.0, &principal.name)?;
        let subject = Subject { authn: authn.to_owned(), posture, ..principal.subject.clone() };
        cx.extensions_mut().insert(Caller {
            principal,
            subject: Arc::new(subject),
            device: cert.map(|c| c.to_string()),
        });
        Ok(())
    }
}

/// Header carrying a device posture report: base64url (no padding) of its JSON.
pub const POSTURE_HEADER: &str = "x-redoubt-posture";
/// Header carrying the device's ES256 signature (base64url of the 64-byte `r || s`) over the posture header's
/// value, with the key of the device identity's certificate.
pub const POSTURE_SIGNATURE_HEADER: &str = "x-redoubt-posture-signature";
/// Largest posture report accepted.
const MAX_POSTURE_BYTES: usize = 4096;

/// A device posture report, as the device signs it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    /// The device identity's name.
    device: String,
    /// The user the report vouches for (the request's caller).
    user: String,
    patch_level: String,
    disk_encrypted: bool,
    /// When the device checked itself (Unix seconds).
    checked_at: i64,
}

/// The posture of the request's device: none without the headers; a report that does not verify fails the
/// request (never silently dropped). Freshness is the policy's business.
fn posture(headers: &axum::http::HeaderMap, registry: &Registry, user: &str) -> S3Result<Option<Posture>> {
    let (Some(report), signature) = (headers.get(POSTURE_HEADER), headers.get(POSTURE_SIGNATURE_HEADER))
    else {
        return Ok(None);
    };
    let refuse = |why: &str| Err(s3_error!(AccessDenied, "device posture refused: {why}"));
    let Some(signature) = signature else { return refuse("the report is not signed") };
    let report = report.as_bytes();
    if report.len() > MAX_POSTURE_BYTES {
        return refuse("the report is too large");
    }
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let Ok(json) = b64.decode(report) else { return refuse("the report is not base64url") };
    let Ok(sig) = b64.decode(signature.as_bytes()) else { return refuse("the signature is not base64url") };
    let Ok(parsed) = serde_json::from_slice::<Report>(&json) else {
        return refuse(
            "the report is not a posture record (device, user, patch_level, disk_encrypted, checked_at)",
        );
    };
    if parsed.user != user {
        return refuse("the report vouches for another user");
    }
    let Some(key) = registry.device_key(&parsed.device) else {
        return refuse("the report names no active device identity of this node");
    };
    let verifier =
        aws_lc_rs::signature::UnparsedPublicKey::new(&aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED, &*key);
    if verifier.verify(report, &sig).is_err() {
        return refuse("the signature does not verify with the device's certificate");
    }
    Ok(Some(Posture {
        patch_level: parsed.patch_level,
        disk_encrypted: parsed.disk_encrypted,
        checked_at_unix: parsed.checked_at,
        device: parsed.device,
    }))
}
