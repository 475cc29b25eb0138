//! The Key Access Service on the node's HTTPS port, compatible with the OpenTDF reference protocol:
//!
//! | route | what |
//! |---|---|
//! | `GET /kas/v2/kas_public_key?algorithm=&fmt=&v=` | the current public key of an algorithm (`rsa:2048`, `ec:secp256r1`, `ec:secp384r1`), `pkcs8` or `jwk`, with its kid |
//! | `POST /kas/v2/rewrap` | `{"signedRequestToken": JWT}`: per key access object, unwrap, decide, audit, rewrap to the client's key |
//! | `GET /.well-known/opentdf-configuration` | where the KAS is and what it offers |
//!
//! Every route needs a client certificate of an identity of this node, or a bearer token from the configured OIDC
//! issuer. The signed request token must be signed with the certificate's key, or, for a bearer caller, with the key
//! its token is bound to (`cnf.jkt`, RFC 9449; the key rides in the request token's `jwk` header); it must be at
//! most 60 s old, and never seen before; the rewrap of each key access
//! object is decided by the PDP exactly as a GET of an object with the label the policy's attributes stand for
//! (a policy without attributes is refused, and the `dissem` list is enforced), and audited before any key leaves.
//!
//! INVARIANT: no share leaves unless the token verified, the object is addressed to this KAS, its policy binding
//! verified under the share, the PDP permitted, and the audit record is durable.

use std::sync::{Arc, Mutex};

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use redoubt_audit::{Entry, LabelRef, Object, Who};
use redoubt_custody::{Algorithm, CustodyError};
use redoubt_kas::{
    ClientKey, KaoResult, KasError, Outcome as KaoOutcome, PolicyResults, ReplayGuard, RequestBody,
    RewrapResponse, Rewrapper, SignerKey, TokenRules,
};
use redoubt_label::Label;
use redoubt_policy::{Action, Pdp, Request as PdpRequest, Resource};
use redoubt_ztdf::{KeyShare, SystemRandomSource};
use serde::Deserialize;
use serde_json::json;

use crate::audit_sink::AuditSink;
use crate::http::error;
use crate::identities::Principal;
use crate::identity::{Peer, PeerCert};
use crate::keys::NodeKeys;
use crate::metrics::Metrics;
use crate::objects::crypt::ATTRIBUTE_NAMESPACE;
use crate::objects::random_id;
use crate::tokens::TokenPeer;

/// Largest rewrap request body.
const MAX_REWRAP_BODY: usize = 2 * 1024 * 1024;
/// Requests with at most this many key access objects are decided on the async worker, without a thread hop.
const INLINE_KAOS: usize = 2;
/// The pseudo-bucket rewrap decisions are made on (reserved: no S3 bucket can take the name).
pub const KAS_BUCKET: &str = "kas";

/// What the KAS routes need.
#[derive(Debug)]
pub struct KasState {
    /// The keys.
    pub keys: NodeKeys,
    /// The decision point.
    pub pdp: Arc<Pdp>,
    /// The audit trail.
    pub audit: AuditSink,
    /// Signed request tokens seen and not yet expired.
    pub replay: Mutex<ReplayGuard>,
    /// Token rules (age, size).
    pub rules: TokenRules,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

impl KasState {
    /// A KAS over these parts.
    pub fn new(keys: NodeKeys, pdp: Arc<Pdp>, audit: AuditSink, metrics: Arc<Metrics>) -> KasState {
        KasState {
            keys,
            pdp,
            audit,
            replay: Mutex::new(ReplayGuard::default()),
            rules: TokenRules::default(),
            metrics,
        }
    }
}

/// The routes, or none when the object service is off.
pub fn routes<S: Clone + Send + Sync + 'static>(state: Option<Arc<KasState>>) -> Router<S> {
    let Some(state) = state else { return Router::new() };
    Router::new()
        .route("/kas/v2/kas_public_key", get(public_key))
        .route("/kas/kas_public_key", get(public_key))
        .route("/kas/v2/rewrap", post(rewrap))
        .route("/.well-known/opentdf-configuration", get(well_known))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REWRAP_BODY))
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct KeyQuery {
    algorithm: Option<String>,
    fmt: Option<String>,
    #[allow(dead_code, reason = "the reference clients send v=2; both versions answer the same")]
    v: Option<String>,
}

async fn public_key(State(state): State<Arc<KasState>>, Query(q): Query<KeyQuery>) -> Response {
    let alg = match q.algorithm.as_deref().unwrap_or("rsa:2048").parse::<Algorithm>() {
        Ok(a) => a,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "unknown algorithm: ask for rsa:2048, ec:secp256r1 or ec:secp384r1",
            );
        }
    };
    let custody = state.keys.custody();
    let Some(info) = custody.current(alg) else {
        return error(StatusCode::NOT_FOUND, &format!("no active {alg} key: run `redoubt key rotate`"));
    };
    let spki = match custody.public_key(&info.kid) {
        Ok((_, spki)) => spki,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let format = match q.fmt.as_deref().unwrap_or("pkcs8") {
        "pkcs8" => redoubt_kas::KeyFormat::Pkcs8,
        "jwk" => redoubt_kas::KeyFormat::Jwk,
        _ => return error(StatusCode::BAD_REQUEST, "unknown fmt: ask for pkcs8 or jwk"),
    };
    match redoubt_kas::public_key_response(&spki, format, Some(&info.kid)) {
        Ok(v) => json_text(v),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn well_known(State(state): State<Arc<KasState>>) -> Response {
    let algorithms: Vec<String> = state
        .keys
        .custody()
        .list()
        .iter()
        .filter(|k| k.state == redoubt_custody::KeyState::Active)
        .map(|k| k.algorithm.to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    axum::Json(json!({
        "configuration": {
            "kas": {
                "uri": state.keys.kas_url,
                "public_key_endpoint": format!("{}/v2/kas_public_key", state.keys.kas_url),
                "rewrap_endpoint": format!("{}/v2/rewrap", state.keys.kas_url),
                "algorithms": algorithms,
                "custody": state.keys.custody().backend(),
            },
            "authentication": "mutual-tls, the signed request token signed with the client certificate's key; or a \
                DPoP-bound bearer token (cnf.jkt), the signed request token signed with that key and carrying it in \
                its jwk header",
        }
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RewrapRequest {
    signed_request_token: String,
}

async fn rewrap(
    State(state): State<Arc<KasState>>,
    Extension(peer): Extension<Peer>,
    Extension(cert): Extension<PeerCert>,
    token_peer: Option<Extension<TokenPeer>>,
    body: Bytes,
) -> Response {
    // A bearer token names the user (a certificate beside it is the device), as on the S3 API.
    let principal = match (token_peer, peer) {
        (Some(Extension(TokenPeer(p))), _) | (None, Peer(Some(p))) => p,
        (None, Peer(None)) => {
            return error(
                StatusCode::UNAUTHORIZED,
                "authentication required: present a client certificate, or a DPoP-bound bearer token",
            );
        }
    };
    let device = cert.0.as_deref().map(str::to_owned);
    let caller = CallerInfo { principal, device };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    // The request as a whole: token, freshness, replay, body. A failure is audited once and answered as a whole.
    let checked = check_request(&state, &caller, &body, now);
    let (request, client_key) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            let status = e.status();
            let entry = caller.entry("kas:Rewrap", None, None, false, vec![e.to_string()], vec![e.rule()]);
            if state.audit.record(entry).await.is_err() {
                return unavailable();
            }
            state.metrics.observe_decision(false);
            return error(status, &e.to_string());
        }
    };
    // A request of a few key access objects is decided in place: its crypto (well under a millisecond for EC,
    // about 0.3 ms per RSA unwrap) costs less than handing it to a blocking thread and back. A bulk request goes to
    // a blocking thread so that it cannot hold an async worker for long.
    let kaos: usize = request.requests.iter().map(|r| r.key_access_objects.len()).sum();
    let outcome = if kaos <= INLINE_KAOS {
        decide_all(&state, &caller.principal, &request, &client_key, now)
    } else {
        let work_state = state.clone();
        let principal = caller.principal.clone();
        match tokio::task::spawn_blocking(move || {
            decide_all(&work_state, &principal, &request, &client_key, now)
        })
        .await
        {
            Ok(r) => r,
            Err(_) => Err("the rewrap task failed".to_owned()),
        }
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e),
    };
    // INVARIANT: every result is durable in the audit before any wrapped key is sent.
    let permits: Vec<bool> = outcome.audit.iter().map(|r| r.permit).collect();
    let entries = outcome
        .audit
        .into_iter()
        .map(|r| {
            caller.entry(
                "kas:Rewrap",
                Some(&r.policy_id),
                r.label.as_ref().map(|(l, m)| (l, m.as_str())),
                r.permit,
                r.reasons,
                r.policy_ids,
            )
        })
        .collect();
    if state.audit.record_all(entries).await.is_err() {
        return unavailable();
    }
    for permit in permits {
        state.metrics.observe_decision(permit);
    }
    json_text(outcome.response)
}

/// A JSON text as a response.
fn json_text(text: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn unavailable() -> Response {
    tracing::error!("audit log unavailable: refusing the rewrap");
    error(StatusCode::SERVICE_UNAVAILABLE, "the audit log is unavailable; the request was not served")
}

/// Who asked, for the audit.
struct CallerInfo {
    principal: Arc<Principal>,
    device: Option<String>,
}

impl CallerInfo {
    fn entry(
        &self,
        action: &str,
        policy_id: Option<&str>,
        label: Option<(&Label, &str)>,
        permit: bool,
        reasons: Vec<String>,
        policy_ids: Vec<String>,
    ) -> Entry {
        Entry {
            request_id: random_id(),
            decision_id: random_id(),
            who: Who { name: self.principal.name.clone(), role: self.principal.subject.role.to_string() },
            device: self.device.clone(),
            action: action.to_owned(),
            object: Some(Object::Object { bucket: KAS_BUCKET.to_owned(), key: policy_id.map(str::to_owned) }),
            label: label.map(|(l, marking)| LabelRef {
                marking: marking.to_owned(),
                policy_id: l.policy.uri.clone().unwrap_or_else(|| l.policy.name.clone()),
            }),
            decision: if permit { redoubt_audit::Decision::Allow } else { redoubt_audit::Decision::Deny },
            reasons,
            policy_ids,
        }
    }
}

/// A whole-request refusal.
#[derive(Debug)]
struct Refusal {
    message: String,
    rule: String,
    status: StatusCode,
}

impl Refusal {
    fn new(e: &KasError, status: StatusCode) -> Refusal {
        Refusal { message: e.to_string(), rule: e.rule().to_owned(), status }
    }
    fn status(&self) -> StatusCode {
        self.status
    }
    fn rule(&self) -> String {
        self.rule.clone()
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn check_request(
    state: &KasState,
    caller: &CallerInfo,
    body: &[u8],
    now: i64,
) -> Result<(RequestBody, ClientKey), Refusal> {
    let bad = |message: &str, rule: &str| Refusal {
        message: message.to_owned(),
        rule: rule.to_owned(),
        status: StatusCode::BAD_REQUEST,
    };
    let req: RewrapRequest = serde_json::from_slice(body)
        .map_err(|_| bad("the body is not {\"signedRequestToken\": \"<JWT>\"}", "kas-malformed-request"))?;
    let signer = signer_key(&caller.principal, &req.signed_request_token)?;
    let token = redoubt_kas::verify_request_token(&req.signed_request_token, &signer, &state.rules, now)
        .map_err(|e| Refusal::new(&e, StatusCode::UNAUTHORIZED))?;
    state
        .replay
        .lock()
        .map_err(|_| bad("the replay guard is unavailable", "kas-internal"))?
        .check_and_insert(token.digest, token.exp, now)
        .map_err(|e| Refusal::new(&KasError::from(e), StatusCode::FORBIDDEN))?;
    let request = RequestBody::parse(&token.body).map_err(|e| Refusal::new(&e, StatusCode::BAD_REQUEST))?;
    let client_key = ClientKey::from_pem(&request.client_public_key)
        .map_err(|e| Refusal::new(&e, StatusCode::BAD_REQUEST))?;
    Ok((request, client_key))
}

/// The key the caller's request token must be signed with: its certificate's key, or, for a caller from a
/// DPoP-bound bearer token, the key in the request token's `jwk` header once its thumbprint is the access token's
/// `cnf.jkt`. A bearer token bound to no key cannot sign for anyone: refused.
fn signer_key(principal: &Principal, token: &str) -> Result<SignerKey, Refusal> {
    let refuse = |message: &str, rule: &str| Refusal {
        message: message.to_owned(),
        rule: rule.to_owned(),
        status: StatusCode::UNAUTHORIZED,
    };
    let key = match (principal.spki.as_deref(), principal.dpop_jkt.as_deref()) {
        (Some(spki), _) => SignerKey::from_spki_der(spki),
        (None, Some(jkt)) => {
            let Some(jwk) = redoubt_kas::header_jwk(token) else {
                return Err(refuse(
                    "the request token carries no usable key (`jwk` header): a bearer caller signs with the key \
                     its access token is bound to and puts it in the header",
                    "kas-dpop-no-key",
                ));
            };
            if redoubt_kas::jwk_thumbprint(&jwk) != jkt {
                return Err(refuse(
                    "the request token is signed with another key than the one the access token is bound to \
                     (`cnf.jkt`)",
                    "kas-dpop-key-mismatch",
                ));
            }
            SignerKey::from_jwk(&jwk)
        }
        (None, None) => {
            return Err(refuse(
                "this access token is not bound to a key (no `cnf.jkt`), so nothing proves the request is its \
                 holder's: use a DPoP-bound token or a client certificate",
                "kas-token-unbound",
            ));
        }
    };
    key.map_err(|e| Refusal::new(&e, StatusCode::UNAUTHORIZED))
}

/// One key access object's decision, for the audit.
struct Audited {
    policy_id: String,
    label: Option<(Label, String)>,
    permit: bool,
    reasons: Vec<String>,
    policy_ids: Vec<String>,
}

struct Outcome {
    response: String,
    audit: Vec<Audited>,
}

fn decide_all(
    state: &KasState,
    principal: &Principal,
    request: &RequestBody,
    client_key: &ClientKey,
    now: i64,
) -> Result<Outcome, String> {
    let rng = SystemRandomSource::new();
    let rewrapper = Rewrapper::new(client_key, &rng).map_err(|e| e.to_string())?;
    let mut responses = Vec::with_capacity(request.requests.len());
    let mut audit = Vec::new();
    for policy_request in &request.requests {
        let mut results = PolicyResults { policy_id: policy_request.policy.id.clone(), results: Vec::new() };
        for item in &policy_request.key_access_objects {
            let one =
                decide_one(state, principal, &policy_request.policy, &item.key_access_object, &item.id, now);
            match one {
                Ok((share, label, decision)) => {
                    let wrapped_key = rewrapper.rewrap(&share).map_err(|e| e.to_string())?;
                    results.results.push(KaoResult {
                        kao_id: item.id.clone(),
                        outcome: KaoOutcome::Permit { wrapped_key },
                    });
                    audit.push(Audited {
                        policy_id: policy_request.policy.id.clone(),
                        label: Some(label),
                        permit: true,
                        reasons: decision.0,
                        policy_ids: decision.1,
                    });
                }
                Err(d) => {
                    results.results.push(KaoResult {
                        kao_id: item.id.clone(),
                        outcome: KaoOutcome::Fail { error: d.client_message.clone() },
                    });
                    audit.push(Audited {
                        policy_id: policy_request.policy.id.clone(),
                        label: d.label.map(|b| *b),
                        permit: false,
                        reasons: d.reasons,
                        policy_ids: d.policy_ids,
                    });
                }
            }
        }
        responses.push(results);
    }
    let response =
        RewrapResponse { responses, session_public_key: rewrapper.session_public_pem().map(str::to_owned) }
            .to_json()
            .map_err(|e| e.to_string())?;
    Ok(Outcome { response, audit })
}

/// A refused key access object: what the client is told, and what the audit keeps.
struct Denied {
    client_message: String,
    label: Option<Box<(Label, String)>>,
    reasons: Vec<String>,
    policy_ids: Vec<String>,
}

impl Denied {
    fn kas(e: &KasError) -> Denied {
        Denied {
            client_message: e.to_string(),
            label: None,
            reasons: vec![e.to_string()],
            policy_ids: vec![e.rule().to_owned()],
        }
    }
    fn custody(e: &CustodyError) -> Denied {
        let rule = match e {
            CustodyError::Shredded { .. } => "kas-key-shredded",
            CustodyError::UnknownKid(_) => "kas-unknown-kid",
            _ => "kas-unwrap",
        };
        Denied {
            client_message: format!("the key could not be unwrapped: {e}"),
            label: None,
            reasons: vec![e.to_string()],
            policy_ids: vec![rule.to_owned()],
        }
    }
}

type Reasons = (Vec<String>, Vec<String>);

fn decide_one(
    state: &KasState,
    principal: &Principal,
    policy_ref: &redoubt_kas::PolicyRef,
    kao: &redoubt_ztdf::manifest::KeyAccessObject,
    kao_id: &str,
    now: i64,
) -> Result<(KeyShare, (Label, String), Reasons), Denied> {
    redoubt_kas::check_kas_url(&kao.url, &state.keys.accepted_urls).map_err(|e| Denied::kas(&e))?;
    let share = state.keys.unwrap(kao).map_err(|e| Denied::custody(&e))?;
    redoubt_kas::check_policy_binding(&share, &policy_ref.body, kao, kao_id).map_err(|e| Denied::kas(&e))?;
    let policy = redoubt_kas::parse_policy(&policy_ref.id, &policy_ref.body).map_err(|e| Denied::kas(&e))?;
    let spif = state.pdp.spif();
    let label = redoubt_kas::object_label(&policy, ATTRIBUTE_NAMESPACE, spif).map_err(|e| Denied::kas(&e))?;
    let marking = spif.marking(&label, "").unwrap_or_else(|_| label.classification.clone());
    let decision = state.pdp.decide(&PdpRequest {
        subject: &principal.subject,
        action: Action::Read,
        resource: Resource { bucket: KAS_BUCKET, key: Some(&policy.uuid), label: Some(&label) },
        now_unix: now,
    });
    if !decision.permit {
        return Err(Denied {
            client_message: "access denied; the audit log holds the reasons".into(),
            label: Some(Box::new((label, marking))),
            reasons: decision.reasons,
            policy_ids: decision.policy_ids,
        });
    }
    let names = [principal.name.as_str()];
    if !redoubt_kas::dissem_permits(&policy.body.dissem, &names) {
        let e = KasError::Dissem;
        return Err(Denied {
            client_message: "access denied: the caller is not on the object's dissemination list".into(),
            label: Some(Box::new((label, marking))),
            reasons: vec![e.to_string()],
            policy_ids: vec![e.rule().to_owned()],
        });
    }
    Ok((share, (label, marking), (decision.reasons, decision.policy_ids)))
}
