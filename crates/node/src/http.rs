//! The HTTP surface of the node: routes, the authentication gate and per-request metrics.
//!
//! INVARIANT: every route but `/healthz` requires an identity issued by this node; the gate runs before any
//! handler, so a new route is protected unless it is added to [`OPEN_ROUTES`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::identity::Peer;
use crate::metrics::{Metrics, OPENMETRICS_CONTENT_TYPE};

/// Routes served to callers without an identity. Liveness only: it says nothing about the node.
pub const OPEN_ROUTES: &[&str] = &["/healthz"];

/// Paths the node serves itself; every other path is the S3 API.
pub const NODE_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics", "/.well-known/opentdf-configuration"];
/// Path prefixes the node serves itself. The bucket names under them are refused (see
/// `objects::names::RESERVED_BUCKETS`), so no S3 object can live there.
pub const NODE_PREFIXES: &[&str] = &["/admin/", "/audit/", "/kas/", "/fmv/"];

/// True when the node serves `path` itself rather than the S3 API.
pub fn owns(path: &str) -> bool {
    NODE_ROUTES.contains(&path) || NODE_PREFIXES.iter().any(|p| path.starts_with(p))
}

/// Takes an `Authorization: Bearer` token off a request and verifies it. `Ok(None)` when there is none (SigV4
/// and other schemes are left in place); `Err` is the 401 to answer, naming why, when it does not verify or when
/// the node accepts no tokens. The header is removed either way, so no later layer ever sees the token.
pub fn bearer_token<B>(
    request: &mut axum::http::Request<B>,
    tokens: Option<&crate::tokens::Tokens>,
) -> Result<Option<Arc<crate::identities::Principal>>, Box<Response>> {
    let is_bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.as_bytes().get(..7))
        .is_some_and(|p| p.eq_ignore_ascii_case(b"bearer "));
    if !is_bearer {
        return Ok(None);
    }
    let Some(value) = request.headers_mut().remove(header::AUTHORIZATION) else { return Ok(None) };
    let refuse = |message: &str| {
        let mut resp = error(StatusCode::UNAUTHORIZED, message);
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        resp
    };
    let Some(tokens) = tokens else {
        return Err(Box::new(refuse("this node accepts no bearer tokens (no `oidc.issuer` configured)")));
    };
    let token = value.to_str().ok().and_then(|v| v.get(7..)).map(str::trim).unwrap_or_default();
    match tokens.principal(token) {
        Ok(p) => Ok(Some(p)),
        Err(why) => {
            tracing::info!(reason = %why, "bearer token refused");
            Err(Box::new(refuse(&why)))
        }
    }
}

/// The response for a request the S3 layer could not even parse into an S3 error.
pub fn s3_failure(e: &s3s::HttpError) -> Response {
    tracing::debug!(error = ?e, "S3 request failed below the S3 layer");
    error(StatusCode::BAD_REQUEST, "malformed request")
}

/// State shared by every handler.
#[derive(Debug)]
pub struct AppState {
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// False until the node serves, and again once shutdown begins.
    pub ready: AtomicBool,
    /// The administration and audit API, when the object service runs.
    pub admin: Option<Arc<crate::admin::AdminState>>,
    /// The key lifecycle routes, when the object service runs.
    pub key_admin: Option<Arc<crate::admin_keys::KeyAdmin>>,
    /// The KAS, when the object service runs.
    pub kas: Option<Arc<crate::kas::KasState>>,
    /// The FMV streams.
    pub fmv: Option<Arc<crate::fmv::FmvState>>,
}

/// The node's router.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::admin::routes(state.admin.clone()))
        .merge(crate::admin_keys::routes(state.key_admin.clone()))
        .merge(crate::kas::routes(state.kas.clone()))
        .merge(crate::fmv::routes::routes(state.fmv.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn(require_identity))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
    } else {
        error(StatusCode::SERVICE_UNAVAILABLE, "not ready: the node is starting or shutting down")
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    match state.metrics.render() {
        Ok(text) => {
            let mut resp = text.into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE));
            resp
        }
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "metrics could not be rendered"),
    }
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "no such route")
}

/// A JSON error body: `{"error": "..."}`.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

async fn require_identity(request: Request, next: Next) -> Response {
    let open = OPEN_ROUTES.contains(&request.uri().path());
    let known = matches!(request.extensions().get::<Peer>(), Some(Peer(Some(_))))
        // The KAS also serves bearer-token callers (OpenTDF clients); it checks their key binding itself.
        || (request.uri().path().starts_with("/kas/")
            && request.extensions().get::<crate::tokens::TokenPeer>().is_some());
    // The API routes for S3 never come here; the node's own routes all need a certificate identity.
    if open || known {
        next.run(request).await
    } else {
        let mut resp = error(
            StatusCode::UNAUTHORIZED,
            "authentication required: present a client certificate issued by this node's CA",
        );
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("mutual-tls"));
        resp
    }
}

async fn observe(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let caller = match request.extensions().get::<Peer>() {
        Some(Peer(Some(identity))) => identity.name.clone(),
        _ => "-".to_owned(),
    };
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    state.metrics.observe_request(&route, &method, status, seconds);
    tracing::debug!(%method, %route, status, micros = (seconds * 1e6) as u64, %caller, "request");
    response
}
