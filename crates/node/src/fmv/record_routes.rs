//! `POST` / `DELETE /fmv/streams/{id}/recording`: starting and stopping a stream's recording over the API.
//!
//! INVARIANT: both are decided by the PDP as a write into the recording's bucket under the stream's current label
//! (what an S3 PUT of a segment would need: `write` on the bucket, for a cleared writer or officer), and the
//! decision (allow or deny) is durable in the audit log before anything starts or stops.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use redoubt_audit::{LabelRef, Object};
use serde::Deserialize;
use serde_json::json;

use super::config::{RecordConfig, check_record};
use super::routes::{forbidden, no_stream, unauthenticated, unavailable, viewer};
use super::stream::Stream;
use super::{FmvState, Viewer, who};
use crate::http::error;
use crate::identity::{Peer, PeerCert};

/// How long a stop waits for the open segment to be stored.
const STOP_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordRequest {
    bucket: String,
    segment_seconds: i64,
}

/// Decides and audits starting or stopping a recording into `bucket`; `Err` is the response.
async fn authorise(
    state: &FmvState,
    viewer: &Viewer,
    stream: &Stream,
    bucket: &str,
    action: &str,
) -> Result<(), Response> {
    let decision = state.decide_recording(&viewer.principal, stream, bucket);
    let label = stream.label();
    let label = LabelRef {
        marking: label.marking.clone(),
        policy_id: label.label.policy.uri.clone().unwrap_or_else(|| label.label.policy.name.clone()),
    };
    let object = Object::Object { bucket: bucket.to_owned(), key: Some(format!("{}/", stream.id)) };
    let recorded = state
        .record(
            who(&viewer.principal),
            Some(viewer.fingerprint.to_string()),
            action,
            object,
            Some(label),
            &decision,
        )
        .await;
    let Ok(decision_id) = recorded else { return Err(unavailable()) };
    if decision.permit {
        Ok(())
    } else {
        tracing::info!(stream = %stream.id, who = %viewer.principal.name, action, %decision_id, "fmv recording refused");
        Err(forbidden(&decision_id, &decision))
    }
}

/// Starts recording: 201 with the recording, 409 when one is running, 400 for a bad body, 403 when refused.
pub async fn start(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(stream) = state.streams.get(&id).cloned() else { return no_stream(&id) };
    let Ok(request) = serde_json::from_slice::<RecordRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "the body is not {\"bucket\": \"BUCKET\", \"segment_seconds\": SECONDS}",
        );
    };
    let config: RecordConfig = match check_record(&request.bucket, request.segment_seconds, "") {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e),
    };
    if let Err(response) = authorise(&state, &viewer, &stream, &config.bucket, "fmv:StartRecording").await {
        return response;
    }
    if let Err(running) = state.start_recording(&stream, config) {
        return error(
            StatusCode::CONFLICT,
            &format!(
                "stream `{id}` is already recording into `{}`; DELETE /fmv/streams/{id}/recording first",
                running.config.bucket
            ),
        );
    }
    let recording = stream.recording().map(|r| r.to_json());
    (StatusCode::CREATED, axum::Json(json!({"stream": id, "recording": recording}))).into_response()
}

/// Stops recording once the open segment is stored: 200 with the final counters, 404 when not recording.
pub async fn stop(
    State(state): State<Arc<FmvState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    Path(id): Path<String>,
) -> Response {
    let Some(viewer) = viewer(&peer, &cert) else { return unauthenticated() };
    let Some(stream) = state.streams.get(&id).cloned() else { return no_stream(&id) };
    let Some(running) = stream.recording().filter(|r| r.is_active()) else {
        return error(StatusCode::NOT_FOUND, &format!("stream `{id}` is not recording"));
    };
    if let Err(response) =
        authorise(&state, &viewer, &stream, &running.config.bucket, "fmv:StopRecording").await
    {
        return response;
    }
    let recording = state.stop_recording(&stream, STOP_WAIT).await.map(|r| r.to_json());
    axum::Json(json!({"stream": id, "recording": recording})).into_response()
}
