//! The node's administration and audit API (JSON over the node's HTTPS port, client certificates only):
//!
//! | route | what | who (default policy) |
//! |---|---|---|
//! | `POST /admin/identities` | create an identity: certificate, key and S3 access key, returned once | administrator |
//! | `GET /admin/identities` | list identities (no secrets) | administrator |
//! | `GET /admin/identities/{name}` | one identity (no secret) | administrator |
//! | `POST /admin/identities/{name}/revoke` | revoke, effective on the next request | administrator |
//! | `GET /admin/domain-key` | the current EC P-256 KAS public key (PEM), for clients that encrypt themselves | any identity |
//! | `GET /audit/records?…` | audit records as JSON lines, filtered | auditor |
//!
//! Every call is decided by the PDP and audited like an S3 request.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redoubt_audit::{Entry, Object, Who};
use redoubt_policy::{Action, Pdp, Request as PdpRequest, Resource};
use serde::Deserialize;

use crate::audit_sink::AuditSink;
use crate::http::error;
use crate::identities::{IdentityError, NewIdentity, Principal, Registry};
use crate::identity::{Peer, PeerCert};
use crate::keys::NodeKeys;
use crate::pki::NodePki;

/// What the admin routes need.
#[derive(Debug)]
pub struct AdminState {
    /// The identities.
    pub registry: Arc<Registry>,
    /// The PKI (the CA issues identity certificates).
    pub pki: Arc<NodePki>,
    /// The decision point.
    pub pdp: Arc<Pdp>,
    /// The audit trail.
    pub audit: AuditSink,
    /// The KAS keys.
    pub keys: NodeKeys,
    /// The data folder (the audit log lives in it).
    pub data_dir: PathBuf,
}

/// The routes, or none when the object service is off.
pub fn routes<S: Clone + Send + Sync + 'static>(state: Option<Arc<AdminState>>) -> Router<S> {
    let Some(state) = state else { return Router::new() };
    Router::new()
        .route("/admin/identities", post(create).get(list))
        .route("/admin/identities/{name}", get(show))
        .route("/admin/identities/{name}/revoke", post(revoke))
        .route("/admin/domain-key", get(domain_key))
        .route("/audit/records", get(records))
        .with_state(state)
}

/// The caller of an admin request, from the connection.
type Caller = (Extension<Peer>, Extension<PeerCert>);

pub(crate) async fn allowed(
    state: &AdminState,
    caller: Caller,
    action: Action,
    what: &str,
    target: Option<&str>,
) -> Result<Arc<Principal>, Response> {
    let (Extension(peer), Extension(cert)) = caller;
    let Peer(Some(principal)) = peer else {
        return Err(error(StatusCode::UNAUTHORIZED, "authentication required: present a client certificate"));
    };
    let device = cert.0.as_deref().map(str::to_owned);
    let mut subject = principal.subject.clone();
    subject.authn = "mtls".into();
    let decision = state.pdp.decide(&PdpRequest {
        subject: &subject,
        action,
        resource: Resource { bucket: "", key: target, label: None },
        now_unix: time::OffsetDateTime::now_utc().unix_timestamp(),
    });
    let decision_id = crate::objects::random_id();
    let entry = Entry {
        request_id: crate::objects::random_id(),
        decision_id: decision_id.clone(),
        who: Who { name: principal.name.clone(), role: subject.role.to_string() },
        device,
        action: what.to_owned(),
        object: target.map(|t| Object::Object { bucket: String::new(), key: Some(t.to_owned()) }),
        label: None,
        decision: if decision.permit {
            redoubt_audit::Decision::Allow
        } else {
            redoubt_audit::Decision::Deny
        },
        reasons: decision.reasons,
        policy_ids: decision.policy_ids,
    };
    if state.audit.record(entry).await.is_err() {
        return Err(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the audit log is unavailable; the request was not served",
        ));
    }
    if decision.permit {
        Ok(principal)
    } else {
        Err(error(StatusCode::FORBIDDEN, &format!("access denied (decision {decision_id})")))
    }
}

fn identity_error(e: IdentityError) -> Response {
    let status = match &e {
        IdentityError::Exists(_) => StatusCode::CONFLICT,
        IdentityError::NotFound(_) => StatusCode::NOT_FOUND,
        IdentityError::Invalid(_) => StatusCode::BAD_REQUEST,
        IdentityError::Storage { .. } => {
            tracing::error!(error = %e, "identity registry failure");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    error(status, &e.to_string())
}

/// Largest identity request body.
const MAX_BODY: usize = 64 * 1024;

async fn create(
    State(state): State<Arc<AdminState>>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
    body: Bytes,
) -> Response {
    if let Err(r) =
        allowed(&state, (peer, cert), Action::ManageIdentities, "admin:CreateIdentity", None).await
    {
        return r;
    }
    if body.len() > MAX_BODY {
        return error(StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than 64 KiB");
    }
    let new: NewIdentity = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => {
            return error(StatusCode::BAD_REQUEST, &format!("the body is not a valid identity request: {e}"));
        }
    };
    let (registry, pki) = (state.registry.clone(), state.pki.clone());
    match tokio::task::spawn_blocking(move || registry.create(&pki, new)).await {
        Ok(Ok(issued)) => (StatusCode::CREATED, axum::Json(issued)).into_response(),
        Ok(Err(e)) => identity_error(e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "identity creation failed"),
    }
}

async fn list(
    State(state): State<Arc<AdminState>>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
) -> Response {
    if let Err(r) =
        allowed(&state, (peer, cert), Action::ManageIdentities, "admin:ListIdentities", None).await
    {
        return r;
    }
    axum::Json(state.registry.list()).into_response()
}

async fn show(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
) -> Response {
    if let Err(r) =
        allowed(&state, (peer, cert), Action::ManageIdentities, "admin:ShowIdentity", Some(&name)).await
    {
        return r;
    }
    match state.registry.show(&name) {
        Ok(record) => axum::Json(record).into_response(),
        Err(e) => identity_error(e),
    }
}

async fn revoke(
    State(state): State<Arc<AdminState>>,
    Path(name): Path<String>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
) -> Response {
    if let Err(r) =
        allowed(&state, (peer, cert), Action::ManageIdentities, "admin:RevokeIdentity", Some(&name)).await
    {
        return r;
    }
    let registry = state.registry.clone();
    match tokio::task::spawn_blocking(move || registry.revoke(&name)).await {
        Ok(Ok(record)) => axum::Json(record).into_response(),
        Ok(Err(e)) => identity_error(e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "revocation failed"),
    }
}

async fn domain_key(State(state): State<Arc<AdminState>>) -> Response {
    match state.keys.public_pem(crate::keys::OBJECT_ALGORITHM) {
        Ok((pem, _kid)) => ([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

/// Filters of `GET /audit/records`, as `redoubt audit query` takes them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsQuery {
    from: Option<String>,
    to: Option<String>,
    identity: Option<String>,
    role: Option<String>,
    action: Option<String>,
    decision: Option<String>,
    object_prefix: Option<String>,
    limit: Option<usize>,
}

/// Most records one call returns.
const MAX_RECORDS: usize = 10_000;

async fn records(
    State(state): State<Arc<AdminState>>,
    Query(q): Query<RecordsQuery>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
) -> Response {
    if let Err(r) = allowed(&state, (peer, cert), Action::ReadAudit, "audit:Query", None).await {
        return r;
    }
    let parse = |t: &Option<String>| t.as_deref().map(redoubt_audit::parse_time).transpose();
    let (from, to) = match (parse(&q.from), parse(&q.to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let decision = match q.decision.as_deref() {
        None => None,
        Some("allow") => Some(redoubt_audit::Decision::Allow),
        Some("deny") => Some(redoubt_audit::Decision::Deny),
        Some(other) => {
            return error(StatusCode::BAD_REQUEST, &format!("decision `{other}`: use allow or deny"));
        }
    };
    let filter = redoubt_audit::Filter {
        from,
        to,
        identity: q.identity,
        role: q.role,
        action: q.action,
        decision,
        object_prefix: q.object_prefix,
    };
    let limit = q.limit.unwrap_or(MAX_RECORDS).min(MAX_RECORDS);
    let path = state.data_dir.join(redoubt_audit::AUDIT_DIR).join(redoubt_audit::writer::LOG_FILE);
    let result = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
        let mut out = String::new();
        for hit in redoubt_audit::query(file, filter).take(limit) {
            let hit = hit.map_err(|e| e.to_string())?;
            out.push_str(&serde_json::to_string(&hit.record).map_err(|e| e.to_string())?);
            out.push('\n');
        }
        Ok(out)
    })
    .await;
    match result {
        Ok(Ok(text)) => ([(header::CONTENT_TYPE, "application/x-ndjson")], text).into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "audit query failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the audit log could not be read")
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the audit query failed"),
    }
}
