//! The `/fmv/…` routes. Every one needs a client certificate of an identity of this node (the gate in
//! `http.rs`); every read of a stream or its telemetry is decided by the PDP exactly as an object GET.
//!
//! | route | what |
//! |---|---|
//! | `GET /fmv/streams` | the streams the caller may read, with their statistics and telemetry |
//! | `GET /fmv/streams/{id}` | one stream (403 when the caller may not read it) |
//! | `GET /fmv/streams/{id}/track` | GeoJSON Feature: LineString of the recent platform positions |
//! | `GET /fmv/streams/{id}/live` | the stream's TS packets, unchanged, as a chunked `video/mp2t` body |
//! | `POST /fmv/streams/{id}/subscribers` | `{"destination": "udp://127.0.0.1:PORT" or "srt://127.0.0.1:PORT", "lease_secs": 30}`: the node sends the packets there (an SRT destination is a listening viewer the node calls) |
//! | `POST /fmv/streams/{id}/subscribers/{sub}/renew` | extends a UDP subscriber's lease |
//! | `DELETE /fmv/streams/{id}/subscribers/{sub}` | ends a UDP subscriber |
//! | `POST /fmv/streams/{id}/recording` | `{"bucket": "fmv-rec", "segment_seconds": 10}`: starts recording (see `record_routes.rs`) |
//! | `DELETE /fmv/streams/{id}/recording` | stops recording once the open segment is stored |
//!
//! This build sends UDP and SRT to loopback destinations only; any other destination is refused and audited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use bytes::Bytes;
use redoubt_policy::Decision;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::source::Destination;
use super::stream::Stream;
use super::subscriber::{Control, HTTP_BUFFER, Sink, Subscriber};
use super::{FmvState, Viewer, who};
use crate::http::error;
use crate::identity::{Peer, PeerCert};

/// Default lease of a UDP subscriber.
const DEFAULT_LEASE: u64 = 30;
/// Longest lease of a UDP subscriber.
const MAX_LEASE: u64 = 3600;

/// The routes (answering 404 for every stream when none is configured).
pub fn routes<S: Clone + Send + Sync + 'static>(state: Option<Arc<FmvState>>) -> Router<S> {
    let Some(state) = state else { return Router::new() };
    Router::new()
        .route("/fmv/streams", get(list))
        .route("/fmv/streams/{id}", get(describe))
        .route("/fmv/streams/{id}/track", get(track))
        .route("/fmv/streams/{id}/live", get(live))
        .route("/fmv/streams/{id}/subscribers", post(subscribe_udp))
        .route("/fmv/streams/{id}/subscribers/{sub}/renew", post(renew))
        .route("/fmv/streams/{id}/subscribers/{sub}", delete(unsubscribe))
        .route(
            "/fmv/streams/{id}/recording",
            post(super::record_routes::start).delete(super::record_routes::stop),
        )
        .with_state(state)
}

/// The caller, as a viewer (certificate identities only: the gate let nobody else through).
pub(super) fn viewer(peer: &Peer, cert: &PeerCert) -> Option<Viewer> {
    let (Peer(Some(principal)), Some(fingerprint)) = (peer, &cert.0) else { return None };
    Some(Viewer { principal: principal.clone(), fingerprint: fingerprint.clone() })
}

pub(super) fn unauthenticated() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "authentication required: present a client certificate issued by this node's CA",
    )
}

pub(super) fn unavailable() -> Response {
    error(StatusCode::SERVICE_UNAVAILABLE, "the audit log is unavailable; the request was not served")
}

pub(super) fn no_stream(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("no stream `{id}`: `redoubt fmv list` shows the streams you may read"),
    )
}

/// A refusal: the decision id and the rules that decided (the reasons stay in the audit).
pub(super) fn forbidden(decision_id: &str, decision: &Decision) -> Response {
    let rules = decision.policy_ids.join(", ");
    (
        StatusCode::FORBIDDEN,
        axum::Json(json!({
            "error": format!("access denied (decision {decision_id}, rule {rules}); the audit log holds the reasons"),
            "decision_id": decision_id,
            "rules": decision.policy_ids,
        })),
    )
        .into_response()
}

/// Decides and audits one read of a stream. `Ok` with the decision id when permitted; `Err` is the response.
async fn authorise(
    state: &FmvState,
    viewer: &Viewer,
    stream: &Stream,
    action: &str,
) -> Result<String, Response> {
    let label = stream.label();
    let decision = state.decide(&viewer.principal, stream, &label);
    let recorded = state
        .audit(
            who(&viewer.principal),
            Some(viewer.fingerprint.to_string()),
            action,
            &stream.id,
            Some(&label),
            &decision,
        )
        .await;
    let Ok(decision_id) = recorded else { return Err(unavailable()) };
    if decision.permit {
        Ok(decision_id)
    } else {
        tracing::info!(stream = %stream.id, who = %viewer.principal.name, action, %decision_id, "fmv access denied");
        Err(forbidden(&decision_id, &decision))
    }
}

async fn list(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let now = Instant::now();
    // Listing is filtered, not audited per stream: a stream the caller may not read is not shown.
    let streams: Vec<Value> = state
        .streams
        .values()
        .filter(|s| state.decide(&viewer.principal, s, &s.label()).permit)
        .map(|s| s.to_json(now))
        .collect();
    axum::Json(json!({"streams": streams})).into_response()
}

async fn describe(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path(id): Path<String>,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(stream) = state.streams.get(&id) else { return no_stream(&id) };
    if let Err(r) = authorise(&state, &viewer, stream, "fmv:DescribeStream").await {
        return r;
    }
    axum::Json(stream.to_json(Instant::now())).into_response()
}

async fn track(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path(id): Path<String>,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(stream) = state.streams.get(&id) else { return no_stream(&id) };
    if let Err(r) = authorise(&state, &viewer, stream, "fmv:GetTrack").await {
        return r;
    }
    let marking = stream.label().marking.clone();
    let geojson = stream.with_analysis(|a| a.track.to_geojson(&stream.id, &marking)).unwrap_or(Value::Null);
    let mut resp = axum::Json(geojson).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/geo+json"));
    resp
}

async fn live(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path(id): Path<String>,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(stream) = state.streams.get(&id).cloned() else { return no_stream(&id) };
    if let Err(r) = authorise(&state, &viewer, &stream, "fmv:Subscribe").await {
        return r;
    }
    let Some((sub_id, rx, info)) = stream.subscribe(&viewer.principal.name, "http") else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the stream has as many subscribers as it takes; try later",
        );
    };
    let (tx, body_rx) = mpsc::channel::<Bytes>(HTTP_BUFFER);
    let subscriber = Subscriber {
        state: state.clone(),
        stream: stream.clone(),
        viewer,
        id: sub_id,
        rx: Some(rx),
        info,
        control: Arc::new(Control::default()),
        sink: Sink::Http(tx),
    };
    subscriber.start();
    let body = futures::stream::unfold(body_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, std::io::Error>(b), rx))
    });
    let mut resp = Body::from_stream(body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp2t"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut().insert(
        header::HeaderName::from_static("x-redoubt-marking"),
        HeaderValue::from_str(&stream.label().marking).unwrap_or(HeaderValue::from_static("")),
    );
    resp
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UdpRequest {
    destination: String,
    lease_secs: Option<u64>,
    /// `caller` (the node calls the viewer, the default) or `listener` (the viewer calls the node); SRT only.
    mode: Option<String>,
    /// The secret stream id the viewer presents when it calls (listener mode).
    streamid: Option<String>,
}

/// How an SRT output connects.
enum SrtMode {
    Caller,
    Listener(String),
}

/// Checks a request's `mode` and `streamid` against its destination.
fn srt_mode(request: &UdpRequest, destination: Destination) -> Result<SrtMode, String> {
    use super::srt_output::{MAX_STREAM_ID, MIN_STREAM_ID};
    match (request.mode.as_deref(), &request.streamid, destination) {
        (None | Some("caller"), None, _) => Ok(SrtMode::Caller),
        (None | Some("caller"), Some(_), _) => {
            Err("`streamid` is for `\"mode\": \"listener\"`, where the viewer calls the node".to_owned())
        }
        (Some("listener"), _, Destination::Udp(_)) => {
            Err("`\"mode\": \"listener\"` is for an srt:// destination".to_owned())
        }
        (Some("listener"), Some(id), Destination::Srt(_))
            if (MIN_STREAM_ID..=MAX_STREAM_ID).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(SrtMode::Listener(id.clone()))
        }
        (Some("listener"), _, Destination::Srt(_)) => Err(format!(
            "`\"mode\": \"listener\"` needs a `streamid` of {MIN_STREAM_ID} to {MAX_STREAM_ID} printable ASCII \
             characters: a secret the viewer presents when it calls (e.g. `srt://HOST:PORT?streamid=…`)"
        )),
        (Some(other), _, _) => Err(format!("unknown mode `{other}`: use `caller` or `listener`")),
    }
}

async fn subscribe_udp(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(stream) = state.streams.get(&id).cloned() else { return no_stream(&id) };
    let Ok(request) = serde_json::from_slice::<UdpRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body is not {\"destination\": \"udp://127.0.0.1:PORT\" (or \"srt://127.0.0.1:PORT\"), \"lease_secs\": SECONDS}",
        );
    };
    let lease = request.lease_secs.unwrap_or(DEFAULT_LEASE);
    if !(1..=MAX_LEASE).contains(&lease) {
        return error(StatusCode::BAD_REQUEST, &format!("lease_secs must be 1 to {MAX_LEASE}"));
    }
    let destination = match Destination::parse(&request.destination) {
        Ok(d) => d,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    let mode = match srt_mode(&request, destination) {
        Ok(m) => m,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    if !destination.addr().ip().is_loopback() {
        // INVARIANT: this build relays to loopback only; anything else is refused and audited.
        let decision = Decision {
            permit: false,
            reasons: vec![format!(
                "destination `{}` is not a loopback address; this build relays over UDP and SRT to loopback only",
                request.destination
            )],
            policy_ids: vec!["fmv-destination-not-loopback".to_owned()],
        };
        let label = stream.label();
        let recorded = state
            .audit(
                who(&viewer.principal),
                Some(viewer.fingerprint.to_string()),
                "fmv:Subscribe",
                &stream.id,
                Some(&label),
                &decision,
            )
            .await;
        let Ok(decision_id) = recorded else { return unavailable() };
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({
                "error": format!("destination `{}` refused: this build sends UDP and SRT to loopback addresses only (decision {decision_id}, rule fmv-destination-not-loopback)", request.destination),
                "decision_id": decision_id,
                "rules": decision.policy_ids,
            })),
        )
            .into_response();
    }
    if let Err(r) = authorise(&state, &viewer, &stream, "fmv:Subscribe").await {
        return r;
    }
    // Authorised first: an uncleared caller cannot make the node open a connection anywhere.
    let sink = match (destination, &mode) {
        (Destination::Udp(addr), _) => match super::ingest::sender(addr) {
            Ok(s) => Sink::Udp(Arc::new(s)),
            Err(e) => {
                return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot open a UDP socket: {e}"));
            }
        },
        (Destination::Srt(addr), SrtMode::Listener(stream_id)) => {
            match super::srt_output::accept(addr, stream.source, stream_id).await {
                Ok(s) => Sink::Srt(Box::new(s)),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return error(
                        StatusCode::GATEWAY_TIMEOUT,
                        &format!(
                            "no viewer called `{destination}` with the stream id within {} s; start the player as \
                             an SRT caller (`srt://{addr}?streamid=…`) while this request waits",
                            super::srt_output::ACCEPT_TIMEOUT.as_secs()
                        ),
                    );
                }
                Err(e) => {
                    return error(
                        StatusCode::CONFLICT,
                        &format!("cannot listen on `{destination}`: {e}; choose a free loopback port"),
                    );
                }
            }
        }
        (Destination::Srt(addr), SrtMode::Caller) => {
            match super::srt_output::connect(addr, stream.source).await {
                Ok(s) => Sink::Srt(Box::new(s)),
                Err(e) => {
                    return error(
                        StatusCode::BAD_GATEWAY,
                        &format!(
                            "cannot connect to the SRT listener `{destination}`: {e}; is the viewer listening?"
                        ),
                    );
                }
            }
        }
    };
    let dest_text = destination.to_string();
    let Some((sub_id, rx, info)) = stream.subscribe(&viewer.principal.name, &dest_text) else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the stream has as many subscribers as it takes; try later",
        );
    };
    let control = Arc::new(Control::default());
    if let Ok(mut e) = control.expires.lock() {
        *e = Some(Instant::now() + Duration::from_secs(lease));
    }
    state.register_control(&stream.id, sub_id, &viewer, control.clone());
    let subscriber = Subscriber {
        state: state.clone(),
        stream: stream.clone(),
        viewer,
        id: sub_id,
        rx: Some(rx),
        info,
        control,
        sink,
    };
    subscriber.start();
    (
        StatusCode::CREATED,
        axum::Json(
            json!({"stream": stream.id, "subscriber": sub_id, "destination": dest_text, "lease_secs": lease}),
        ),
    )
        .into_response()
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RenewRequest {
    lease_secs: Option<u64>,
}

async fn renew(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path((id, sub)): Path<(String, u64)>,
    body: Bytes,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let request: RenewRequest = if body.is_empty() {
        RenewRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(_) => return error(StatusCode::BAD_REQUEST, "the body is not {\"lease_secs\": SECONDS}"),
        }
    };
    let lease = request.lease_secs.unwrap_or(DEFAULT_LEASE);
    if !(1..=MAX_LEASE).contains(&lease) {
        return error(StatusCode::BAD_REQUEST, &format!("lease_secs must be 1 to {MAX_LEASE}"));
    }
    let Some(control) = state.control(&id, sub, &viewer) else {
        return error(StatusCode::NOT_FOUND, &format!("no live subscriber {sub} of yours on stream `{id}`"));
    };
    if let Ok(mut e) = control.expires.lock() {
        *e = Some(Instant::now() + Duration::from_secs(lease));
    }
    axum::Json(json!({"stream": id, "subscriber": sub, "lease_secs": lease})).into_response()
}

async fn unsubscribe(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path((id, sub)): Path<(String, u64)>,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(control) = state.control(&id, sub, &viewer) else {
        return error(StatusCode::NOT_FOUND, &format!("no live subscriber {sub} of yours on stream `{id}`"));
    };
    control.stop.notify_one();
    state.forget_control(&id, sub);
    StatusCode::NO_CONTENT.into_response()
}
