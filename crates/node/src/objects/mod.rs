//! The zero-trust object service: the S3 API (through `s3s`), where every request is authenticated (SigV4 access
//! key or client certificate), decided by the PDP (label ACDF ∧ Cedar), audited, and every object is stored as a
//! ZTDF container.
//!
//! INVARIANT: no handler touches data before [`ObjectService::decide`] has permitted the action and the audit
//! record is durable; a denial carries only the decision id, never the object's label.

pub mod auth;
pub mod crypt;
pub mod internal;
pub mod labels;
pub mod names;
mod s3;

use std::sync::Arc;

use redoubt_audit::{Entry, LabelRef, Object, Who};
use redoubt_label::Label;
use redoubt_policy::{Action, Decision, Pdp, Request, Resource, Subject};
use redoubt_store::{Store, StoreError};
use s3s::{S3Error, S3ErrorCode, s3_error};

use crate::audit_sink::AuditSink;
use crate::identities::Principal;
use crate::keys::NodeKeys;
use crate::metrics::Metrics;

/// Largest object accepted in one PUT or part (the S3 limit).
pub const MAX_PUT_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Smallest part but the last of a multipart upload (the S3 limit).
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

/// The authenticated caller of one S3 request, put in the request's extensions by [`auth::Access`].
#[derive(Debug, Clone)]
pub struct Caller {
    /// The identity.
    pub principal: Arc<Principal>,
    /// The subject as the policy sees it for this request (authentication method, posture).
    pub subject: Arc<Subject>,
    /// The device (client certificate fingerprint) the request came over, when one was presented.
    pub device: Option<String>,
}

/// The object service.
#[derive(Debug, Clone)]
pub struct ObjectService {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<Store>,
    pdp: Arc<Pdp>,
    audit: AuditSink,
    keys: Arc<NodeKeys>,
    metrics: Arc<Metrics>,
}

/// A permitted decision.
#[derive(Debug)]
pub struct Permit {
    /// The decision id.
    pub decision_id: String,
}

impl ObjectService {
    /// A service over these parts.
    pub fn new(
        store: Arc<Store>,
        pdp: Arc<Pdp>,
        audit: AuditSink,
        keys: Arc<NodeKeys>,
        metrics: Arc<Metrics>,
    ) -> Self {
        ObjectService { inner: Arc::new(Inner { store, pdp, audit, keys, metrics }) }
    }

    fn store(&self) -> &Arc<Store> {
        &self.inner.store
    }

    fn pdp(&self) -> &Pdp {
        &self.inner.pdp
    }

    fn vault(&self) -> crypt::Vault {
        crypt::Vault { store: self.inner.store.clone(), keys: self.inner.keys.clone() }
    }

    /// Decides one action, writes the audit record (allow or deny) and waits for it to be durable. A denial is
    /// S3 `AccessDenied` naming the decision id; the reasons stay in the audit.
    pub async fn decide(
        &self,
        caller: &Caller,
        s3_action: &str,
        action: Action,
        bucket: &str,
        key: Option<&str>,
        label: Option<(&Label, &str)>,
    ) -> Result<Permit, S3Error> {
        let now = time::OffsetDateTime::now_utc();
        let decision: Decision = self.pdp().decide(&Request {
            subject: &caller.subject,
            action,
            resource: Resource { bucket, key, label: label.map(|(l, _)| l) },
            now_unix: now.unix_timestamp(),
        });
        let decision_id = random_id();
        let entry = Entry {
            request_id: random_id(),
            decision_id: decision_id.clone(),
            who: Who { name: caller.principal.name.clone(), role: caller.subject.role.to_string() },
            device: caller.device.clone(),
            action: s3_action.to_owned(),
            object: Some(Object::Object { bucket: bucket.to_owned(), key: key.map(str::to_owned) }),
            label: label.map(|(l, marking)| LabelRef {
                marking: marking.to_owned(),
                policy_id: l.policy.uri.clone().unwrap_or_else(|| l.policy.name.clone()),
            }),
            decision: if decision.permit {
                redoubt_audit::Decision::Allow
            } else {
                redoubt_audit::Decision::Deny
            },
            reasons: decision.reasons.clone(),
            policy_ids: decision.policy_ids.clone(),
        };
        self.inner.metrics.observe_decision(decision.permit);
        if let Err(e) = self.inner.audit.record(entry).await {
            tracing::error!(error = %e, "audit log unavailable: refusing the request");
            return Err(s3_error!(
                ServiceUnavailable,
                "the audit log is unavailable; the request was not served"
            ));
        }
        if decision.permit {
            Ok(Permit { decision_id })
        } else {
            tracing::info!(caller = %caller.principal.name, action = s3_action, %decision_id, "denied");
            Err(s3_error!(
                AccessDenied,
                "access denied (decision {decision_id}); the audit log holds the reasons"
            ))
        }
    }
}

/// 128 random bits as hex (decision and request ids).
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    // A failing system RNG makes ids collide, never leak: fall back to the clock.
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        let t = time::OffsetDateTime::now_utc().unix_timestamp_nanos().to_le_bytes();
        b = t;
    }
    hex::encode(b)
}

/// A store error as the S3 error a client expects.
pub fn store_error(e: StoreError) -> S3Error {
    match e {
        StoreError::NoSuchBucket { .. } => s3_error!(NoSuchBucket, "{e}"),
        StoreError::BucketExists { .. } => s3_error!(BucketAlreadyOwnedByYou, "{e}"),
        StoreError::BucketNotEmpty { .. } => s3_error!(BucketNotEmpty, "{e}"),
        StoreError::NoSuchKey { .. } => s3_error!(NoSuchKey, "{e}"),
        StoreError::NoSuchUpload { .. } => s3_error!(NoSuchUpload, "{e}"),
        StoreError::InvalidPart { .. } => s3_error!(InvalidPart, "{e}"),
        StoreError::PreconditionFailed => s3_error!(PreconditionFailed, "{e}"),
        other => {
            tracing::error!(error = %other, "store failure");
            S3Error::with_message(
                S3ErrorCode::InternalError,
                "the node could not complete the request (store failure)",
            )
        }
    }
}
