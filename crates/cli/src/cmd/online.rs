//! The online half of `redoubt encrypt | decrypt | get`: a node's KAS, reached over mutual TLS as one identity.
//! `encrypt --kas URL` fetches the KAS public key itself; `decrypt --kas URL` asks the KAS to rewrap each key
//! share to a fresh session key, with a request token signed by the identity's key. The KAS decides per key
//! access object, under the policy the container carries, and audits; nothing here trusts the file's claims.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use redoubt_kas::{
    ClientKeyKind, ClientSession, KaoRequest, PolicyRequest, RequestBody, RewrapResponse, SigningKey,
};
use redoubt_ztdf::{KasPublicKey, KasTarget, KeyShare, SystemRandomSource, TdfReader, Unwrapped};
use serde_json::{Value, json};

use super::node::{NodeClient, connect};
use crate::exit::Negative;

/// How to reach a KAS and as whom.
#[derive(Debug, Args, Clone)]
pub struct KasArgs {
    /// A node's KAS URL, such as https://127.0.0.1:8443/kas (online: the KAS public key is fetched, or the key
    /// released by rewrap under the KAS's decision)
    #[arg(long, value_name = "URL")]
    pub kas: Option<String>,
    /// KAS key algorithm to encrypt with
    #[arg(long, default_value = "ec:secp256r1", value_parser = ["rsa:2048", "ec:secp256r1", "ec:secp384r1"])]
    pub kas_algorithm: String,
    /// Client certificate (PEM) of the identity to act as (from `redoubt identity create --out`)
    #[arg(long, value_name = "FILE", requires = "kas")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of `--cert`: it authenticates the connection and signs rewrap requests
    #[arg(long, value_name = "FILE", requires = "kas")]
    pub key: Option<PathBuf>,
    /// The node CA certificate (PEM), the only trust anchor for the KAS
    #[arg(long, value_name = "FILE", requires = "kas")]
    pub ca: Option<PathBuf>,
}

impl KasArgs {
    fn client(&self, url: &str) -> Result<NodeClient> {
        let need = |v: &Option<PathBuf>, flag: &str| {
            v.clone().ok_or_else(|| anyhow!("--kas needs {flag}: the identity's files and the node CA"))
        };
        connect(
            url.to_owned(),
            &need(&self.ca, "--ca")?,
            &need(&self.cert, "--cert")?,
            &need(&self.key, "--key")?,
        )
    }
}

/// The KAS target for `encrypt --kas`: its current public key of the chosen algorithm, with the kid.
pub fn kas_target(args: &KasArgs, url: &str) -> Result<KasTarget> {
    let url = url.trim_end_matches('/');
    let client = args.client(url)?;
    let v = client.call_url(
        reqwest::Method::GET,
        &format!("{url}/v2/kas_public_key?algorithm={}&fmt=pkcs8&v=2", args.kas_algorithm),
        None,
    )?;
    let pem =
        v.get("publicKey").and_then(Value::as_str).ok_or_else(|| anyhow!("the KAS sent no public key"))?;
    let kid = v.get("kid").and_then(Value::as_str).map(str::to_owned);
    let key = KasPublicKey::from_pem(pem).map_err(|e| anyhow!("the KAS public key is unusable: {e}"))?;
    Ok(KasTarget { url: url.to_owned(), key, kid, sid: None })
}

/// Recovers a container's payload key through the KAS: one rewrap request for every key access object, then
/// the shares it released (policy bindings verified by the reader).
pub fn unwrap_online<R: std::io::Read + std::io::Seek>(
    args: &KasArgs,
    url: &str,
    reader: &TdfReader<R>,
) -> Result<Unwrapped> {
    let url = url.trim_end_matches('/');
    unwrap_through(&args.client(url)?, url, reader)
}

/// [`unwrap_online`] over a connection already made: `client`'s identity signs the request token.
pub fn unwrap_through<R: std::io::Read + std::io::Seek>(
    client: &NodeClient,
    url: &str,
    reader: &TdfReader<R>,
) -> Result<Unwrapped> {
    let url = url.trim_end_matches('/');
    let ei = &reader.manifest().encryption_information;
    let policy = reader.policy().map_err(|e| anyhow!("{e}"))?;
    let session = ClientSession::generate(ClientKeyKind::EcP256, &SystemRandomSource::new())
        .map_err(|e| anyhow!("{e}"))?;
    let items: Vec<KaoRequest> = ei
        .key_access
        .iter()
        .enumerate()
        .map(|(i, kao)| KaoRequest { id: format!("kao-{i}"), key_access_object: kao.clone() })
        .collect();
    let body = RequestBody {
        client_public_key: session.public_pem(),
        requests: vec![PolicyRequest {
            policy: redoubt_kas::PolicyRef { id: policy.uuid.clone(), body: ei.policy.clone() },
            key_access_objects: items,
            algorithm: None,
        }],
    };
    let signer = SigningKey::from_pkcs8_pem(&client.key_pem).map_err(|e| anyhow!("--key: {e}"))?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let token = redoubt_kas::sign_request_token(&body.to_json().map_err(|e| anyhow!("{e}"))?, &signer, now)
        .map_err(|e| anyhow!("{e}"))?;
    let response = client.call_url(
        reqwest::Method::POST,
        &format!("{url}/v2/rewrap"),
        Some(json!({"signedRequestToken": token})),
    )?;
    let response = RewrapResponse::parse(&response.to_string()).context("the KAS response")?;
    let results = session.open_results(&response);
    let mut shares: HashMap<String, KeyShare> = HashMap::new();
    let mut refusals = Vec::new();
    for r in results {
        match r.share {
            Ok(s) => {
                shares.insert(r.kao_id, s);
            }
            Err(why) => {
                refusals.push(format!("{} ({})", why.trim_start_matches("the KAS refused: "), r.kao_id))
            }
        }
    }
    let unwrapped = reader
        .unwrap_payload_key_with("the KAS released no key for", |i, _| shares.remove(&format!("kao-{i}")));
    match unwrapped {
        Ok(u) => Ok(u),
        Err(e) if !refusals.is_empty() => {
            Err(Negative(format!("the KAS refused: {} ({e})", refusals.join("; "))).into())
        }
        Err(e) => Err(Negative(e.to_string()).into()),
    }
}
