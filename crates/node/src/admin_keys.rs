//! Key lifecycle through the admin API (client certificates only, decided and audited like every admin call):
//!
//! | route | what | who (default policy) |
//! |---|---|---|
//! | `GET /admin/keys` | every key version: kid, algorithm, state, dates | administrator |
//! | `POST /admin/keys/rotate` `{"algorithm": "ec:secp256r1"}` | a new version; new objects use it, old ones still open | administrator |
//! | `POST /admin/keys/{kid}/shred` | asks for a version to be destroyed (pending for an hour) | administrator |
//! | `POST /admin/keys/{kid}/shred/approve` | destroys it: another identity, a security officer | officer |
//!
//! Destroying a key version is crypto-shredding: every object wrapped only to it becomes unreadable, here and
//! wherever a copy of the file went. The approval's audit record lists the stored objects that it made
//! unreadable (up to [`MAX_LISTED`], with the total).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redoubt_audit::{Entry, Object, Who};
use redoubt_custody::{Algorithm, KeyInfo, KeyState};
use redoubt_policy::Action;
use redoubt_store::Store;
use redoubt_ztdf::TdfReader;
use serde::Deserialize;
use serde_json::json;

use crate::admin::{AdminState, allowed};
use crate::http::error;
use crate::identity::{Peer, PeerCert};
use crate::keys::NodeKeys;

/// A shred request waits this long for an officer's approval.
const PENDING_SECS: i64 = 3600;
/// Objects named in the audit record of a destruction (the total is always given).
pub const MAX_LISTED: usize = 1000;

/// What the key routes need.
#[derive(Debug)]
pub struct KeyAdmin {
    /// The admin state (PDP, audit).
    pub admin: Arc<AdminState>,
    /// The keys.
    pub keys: NodeKeys,
    /// The store, scanned for the objects a destruction makes unreadable.
    pub store: Arc<Store>,
    /// Pending shred requests: kid → (requester, requested at).
    pub pending: Mutex<HashMap<String, (String, i64)>>,
}

/// The routes.
pub fn routes<S: Clone + Send + Sync + 'static>(state: Option<Arc<KeyAdmin>>) -> Router<S> {
    let Some(state) = state else { return Router::new() };
    Router::new()
        .route("/admin/keys", get(list))
        .route("/admin/keys/rotate", post(rotate))
        .route("/admin/keys/{kid}/shred", post(request_shred))
        .route("/admin/keys/{kid}/shred/approve", post(approve_shred))
        .with_state(state)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn info_json(k: &KeyInfo) -> serde_json::Value {
    json!({
        "kid": k.kid,
        "algorithm": k.algorithm.to_string(),
        "state": match k.state { KeyState::Active => "active", KeyState::Shredded => "shredded" },
        "created_unix": k.created_unix,
        "shredded_unix": k.shredded_unix,
    })
}

async fn list(
    State(state): State<Arc<KeyAdmin>>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
) -> Response {
    if let Err(r) = allowed(&state.admin, (peer, cert), Action::ManageKeys, "admin:ListKeys", None).await {
        return r;
    }
    let custody = state.keys.custody();
    let keys: Vec<_> = custody.list().iter().map(info_json).collect();
    axum::Json(json!({"backend": custody.backend(), "keys": keys})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateBody {
    algorithm: String,
}

async fn rotate(
    State(state): State<Arc<KeyAdmin>>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
    body: axum::body::Bytes,
) -> Response {
    let Ok(req) = serde_json::from_slice::<RotateBody>(&body) else {
        return error(StatusCode::BAD_REQUEST, "the body is not {\"algorithm\": \"ec:secp256r1\"}");
    };
    let Ok(alg) = req.algorithm.parse::<Algorithm>() else {
        return error(StatusCode::BAD_REQUEST, "unknown algorithm: rsa:2048, ec:secp256r1 or ec:secp384r1");
    };
    let what = format!("{alg}");
    if let Err(r) =
        allowed(&state.admin, (peer, cert), Action::ManageKeys, "admin:RotateKey", Some(&what)).await
    {
        return r;
    }
    let custody = state.keys.custody().clone();
    match tokio::task::spawn_blocking(move || custody.rotate(alg, now())).await {
        Ok(Ok(info)) => {
            tracing::info!(kid = %info.kid, algorithm = %alg, "key rotated");
            (StatusCode::CREATED, axum::Json(info_json(&info))).into_response()
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "the rotation task failed"),
    }
}

async fn request_shred(
    State(state): State<Arc<KeyAdmin>>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
    Path(kid): Path<String>,
) -> Response {
    let principal =
        match allowed(&state.admin, (peer, cert), Action::ManageKeys, "admin:RequestKeyShred", Some(&kid))
            .await
        {
            Ok(p) => p,
            Err(r) => return r,
        };
    match state.keys.custody().list().iter().find(|k| k.kid == kid) {
        None => return error(StatusCode::NOT_FOUND, &format!("no key version `{kid}`; `redoubt key list`")),
        Some(k) if k.state == KeyState::Shredded => {
            return error(StatusCode::CONFLICT, &format!("key version `{kid}` is already destroyed"));
        }
        Some(_) => {}
    }
    let Ok(mut pending) = state.pending.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "pending requests unavailable");
    };
    pending.insert(kid.clone(), (principal.name.clone(), now()));
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "kid": kid,
            "requested_by": principal.name,
            "status": "awaiting an officer's approval",
            "expires_in_secs": PENDING_SECS,
            "next": format!("a security officer runs `redoubt key approve-shred --kid {kid} --identity DIR`"),
        })),
    )
        .into_response()
}

async fn approve_shred(
    State(state): State<Arc<KeyAdmin>>,
    peer: Extension<Peer>,
    cert: Extension<PeerCert>,
    Path(kid): Path<String>,
) -> Response {
    let approver = match allowed(
        &state.admin,
        (peer.clone(), cert.clone()),
        Action::ApproveKeyDestruction,
        "admin:ApproveKeyShred",
        Some(&kid),
    )
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let requester = {
        let Ok(mut pending) = state.pending.lock() else {
            return error(StatusCode::INTERNAL_SERVER_ERROR, "pending requests unavailable");
        };
        pending.retain(|_, (_, at)| now() - *at <= PENDING_SECS);
        match pending.get(&kid) {
            None => {
                return error(
                    StatusCode::CONFLICT,
                    &format!(
                        "nobody asked for `{kid}` to be destroyed in the last hour: an administrator runs `redoubt key shred --kid {kid}` first"
                    ),
                );
            }
            Some((who, _)) if *who == approver.name => {
                return error(
                    StatusCode::FORBIDDEN,
                    "two people are needed: the approver must not be the identity that asked for the destruction",
                );
            }
            Some((who, _)) => {
                let who = who.clone();
                pending.remove(&kid);
                who
            }
        }
    };
    let keys = state.keys.clone();
    let store = state.store.clone();
    let kid2 = kid.clone();
    let done = tokio::task::spawn_blocking(move || {
        let info = keys.custody().shred(&kid2, now()).map_err(|e| e.to_string())?;
        let lost = unreadable_objects(&store, &keys, &kid2);
        Ok::<_, String>((info, lost))
    })
    .await;
    let (info, lost) = match done {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "the destruction task failed"),
    };
    let total = lost.len();
    let listed: Vec<String> = lost.iter().take(MAX_LISTED).map(|(b, k)| format!("{b}/{k}")).collect();
    let mut reasons = vec![format!(
        "key version {kid} destroyed at the request of {requester}, approved by {}; {total} stored object(s) made unreadable",
        approver.name
    )];
    reasons.extend(listed.iter().map(|o| format!("unreadable: {o}")));
    let (Extension(_), Extension(cert)) = (peer, cert);
    let entry = Entry {
        request_id: crate::objects::random_id(),
        decision_id: crate::objects::random_id(),
        who: Who { name: approver.name.clone(), role: approver.subject.role.to_string() },
        device: cert.0.as_deref().map(str::to_owned),
        action: "admin:KeyShredded".into(),
        object: Some(Object::Object { bucket: String::new(), key: Some(kid.clone()) }),
        label: None,
        decision: redoubt_audit::Decision::Allow,
        reasons,
        policy_ids: vec!["officers-approve-key-destruction".into()],
    };
    if state.admin.audit.record(entry).await.is_err() {
        tracing::error!(%kid, "key destroyed but its audit record could not be written");
    }
    tracing::warn!(%kid, requester = %requester, approver = %approver.name, objects = total, "key version destroyed");
    axum::Json(json!({
        "key": info_json(&info),
        "requested_by": requester,
        "approved_by": approver.name,
        "unreadable_objects": total,
        "listed": listed,
    }))
    .into_response()
}

/// The stored objects this destruction made unreadable: some split of their key has every key access object
/// under a destroyed version, one of them `kid` (stored objects are this node's, whatever URL they name).
fn unreadable_objects(store: &Store, keys: &NodeKeys, kid: &str) -> Vec<(String, String)> {
    let dead: Vec<String> =
        keys.custody().list().into_iter().filter(|k| k.state == KeyState::Shredded).map(|k| k.kid).collect();
    let is_dead = |k: &redoubt_ztdf::manifest::KeyAccessObject| {
        k.kid.as_deref().is_some_and(|id| dead.iter().any(|d| d == id))
    };
    let mut out = Vec::new();
    let Ok(buckets) = store.list_buckets() else { return out };
    for (bucket, _) in buckets {
        let mut after: Option<String> = None;
        while let Ok(page) = store.list_objects(&bucket, "", None, after.as_deref(), 1000) {
            for (key, meta) in &page.objects {
                let Ok(file) = store.open_blob(&meta.blob) else { continue };
                let Ok(reader) = TdfReader::open(file) else { continue };
                let kaos = &reader.manifest().encryption_information.key_access;
                let mut splits: Vec<&str> = kaos.iter().map(|k| k.split_id()).collect();
                splits.sort_unstable();
                splits.dedup();
                let lost = splits.iter().any(|sid| {
                    let split: Vec<_> = kaos.iter().filter(|k| k.split_id() == *sid).collect();
                    split.iter().all(|k| is_dead(k)) && split.iter().any(|k| k.kid.as_deref() == Some(kid))
                });
                if lost {
                    out.push((bucket.clone(), key.clone()));
                }
            }
            if !page.truncated {
                break;
            }
            after = page.next_token;
        }
    }
    out
}
