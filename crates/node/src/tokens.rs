//! OIDC bearer tokens: the third way to authenticate (beside client certificates and S3 access keys). A request
//! carrying `Authorization: Bearer <JWT>` is verified against the configured issuer's JWKS (`oidc.*` keys; claim
//! mapping in the `redoubt-oidc` crate docs) and becomes a [`Principal`] for that request only. The header is then
//! removed, so the S3 layer sees no SigV4 credentials and [`crate::objects::auth::Access`] uses the token's subject.
//!
//! INVARIANT: a token is never logged, never stored, and never grants the administrator role.

use std::sync::Arc;

use redoubt_oidc::{Jwks, TokenSubject, Verifier, VerifierConfig};
use redoubt_policy::{Pdp, Role, Subject};

use crate::config::Config;
use crate::identities::Principal;

/// The principal a verified bearer token stands for, put in the request's extensions.
#[derive(Debug, Clone)]
pub struct TokenPeer(pub Arc<Principal>);

/// Verifies bearer tokens.
#[derive(Debug)]
pub struct Tokens {
    verifier: std::sync::RwLock<Option<Arc<Verifier>>>,
    config: VerifierConfig,
    pdp: Arc<Pdp>,
}

/// How often a JWKS URL is fetched again (keys rotate).
const JWKS_REFRESH: std::time::Duration = std::time::Duration::from_secs(3600);
/// How soon a failed JWKS fetch is tried again.
const JWKS_RETRY: std::time::Duration = std::time::Duration::from_secs(30);

/// Fetches a JWKS over HTTPS, trusting only `ca_pem`, within 10 s and 1 MiB. Blocking (its own thread).
fn fetch_jwks(url: &str, ca_pem: &[u8]) -> Result<Jwks, String> {
    use rustls_pki_types::pem::PemObject as _;
    use std::io::Read as _;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem) {
        roots
            .add(cert.map_err(|_| "oidc.jwks_ca is not a PEM certificate".to_owned())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = reqwest::blocking::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client.get(url).send().map_err(|e| format!("cannot fetch the OIDC key set: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("fetching the OIDC key set answered {}", resp.status()));
    }
    let mut body = Vec::new();
    let limit = redoubt_oidc::MAX_JWKS_BYTES as u64;
    resp.take(limit + 1).read_to_end(&mut body).map_err(|e| format!("cannot read the OIDC key set: {e}"))?;
    if body.len() as u64 > limit {
        return Err("the OIDC key set is larger than 1 MiB".into());
    }
    Jwks::from_json(&body).map_err(|e| format!("the OIDC key set is not usable: {e}"))
}

/// Largest JWKS file read.
const MAX_JWKS_FILE: u64 = 1024 * 1024;

impl Tokens {
    /// The verifier the configuration asks for: `None` when OIDC is off (no `oidc.issuer`); an error naming the
    /// missing key when it is half configured, or when the JWKS file is unreadable.
    pub fn from_config(config: &Config, pdp: Arc<Pdp>) -> Result<Option<Arc<Tokens>>, String> {
        let source = (&config.oidc_jwks_file, &config.oidc_jwks_url);
        let (issuer, audience) = match (&config.oidc_issuer, &config.oidc_audience, source) {
            (None, None, (None, None)) if config.oidc_jwks_ca.is_none() => return Ok(None),
            (Some(i), Some(a), (Some(_), None) | (None, Some(_))) => (i, a),
            _ => {
                return Err(
                    "OIDC needs `oidc.issuer`, `oidc.audience` and exactly one of `oidc.jwks_file` and \
                            `oidc.jwks_url`; set the missing ones or remove them all"
                        .into(),
                );
            }
        };
        let verifier_config = VerifierConfig::new(issuer.clone(), audience.clone());
        if let Some(url) = &config.oidc_jwks_url {
            let ca_path = config
                .oidc_jwks_ca
                .as_ref()
                .ok_or_else(|| "`oidc.jwks_url` needs `oidc.jwks_ca`, the CA to trust for it".to_owned())?;
            let ca =
                std::fs::read(ca_path).map_err(|e| format!("cannot read `{}`: {e}", ca_path.display()))?;
            let tokens =
                Arc::new(Tokens { verifier: std::sync::RwLock::new(None), config: verifier_config, pdp });
            // Fetched now and every hour on a thread of its own; until a fetch succeeds, tokens are refused (fail
            // closed) while the node serves everything else.
            let (weak, url) = (Arc::downgrade(&tokens), url.clone());
            std::thread::Builder::new()
                .name("redoubt-jwks".into())
                .spawn(move || {
                    loop {
                        let Some(tokens) = weak.upgrade() else { return };
                        let wait = match fetch_jwks(&url, &ca) {
                            Ok(jwks) => {
                                tracing::info!(keys = jwks.len(), "OIDC key set fetched");
                                if let Ok(mut slot) = tokens.verifier.write() {
                                    *slot = Some(Arc::new(Verifier::new(jwks, tokens.config.clone())));
                                }
                                JWKS_REFRESH
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "OIDC key set not fetched; bearer tokens are refused until it is");
                                JWKS_RETRY
                            }
                        };
                        drop(tokens);
                        std::thread::sleep(wait);
                    }
                })
                .map_err(|e| e.to_string())?;
            return Ok(Some(tokens));
        }
        let Some(jwks_file) = &config.oidc_jwks_file else { return Ok(None) };
        let meta = std::fs::metadata(jwks_file)
            .map_err(|e| format!("cannot read the OIDC key set `{}`: {e}", jwks_file.display()))?;
        if meta.len() > MAX_JWKS_FILE {
            return Err(format!("the OIDC key set `{}` is larger than 1 MiB", jwks_file.display()));
        }
        let bytes = std::fs::read(jwks_file)
            .map_err(|e| format!("cannot read the OIDC key set `{}`: {e}", jwks_file.display()))?;
        let jwks = Jwks::from_json(&bytes)
            .map_err(|e| format!("the OIDC key set `{}` is not usable: {e}", jwks_file.display()))?;
        let verifier = Arc::new(Verifier::new(jwks, verifier_config.clone()));
        Ok(Some(Arc::new(Tokens {
            verifier: std::sync::RwLock::new(Some(verifier)),
            config: verifier_config,
            pdp,
        })))
    }

    /// The principal of a bearer token, or why it is refused (never echoing the token).
    pub fn principal(&self, token: &str) -> Result<Arc<Principal>, String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let verifier = self.verifier.read().ok().and_then(|v| v.clone()).ok_or_else(|| {
            "bearer token refused: the issuer's key set has not been fetched yet".to_owned()
        })?;
        let claims = verifier.verify(token, now).map_err(|e| format!("bearer token refused: {e}"))?;
        self.subject(claims).map(Arc::new)
    }

    fn subject(&self, t: TokenSubject) -> Result<Principal, String> {
        let role: Role = match t.role.as_deref() {
            None => Role::Reader,
            Some(r) => {
                r.parse().map_err(|_| format!("bearer token refused: unknown role `{r}` in the token"))?
            }
        };
        if role == Role::Administrator {
            return Err("bearer token refused: the administrator role is not granted by tokens".into());
        }
        let clearance = match (t.clearance, &t.clearance_level) {
            (Some(c), _) => c,
            (None, Some(level)) => {
                redoubt_policy::clearance_for(self.pdp.spif(), level, t.nationality.as_deref(), &t.cois)
                    .map_err(|e| {
                        format!("bearer token refused: its clearance does not fit the domain policy: {e}")
                    })?
            }
            (None, None) => redoubt_label::Clearance::default(),
        };
        Ok(Principal {
            name: t.name.clone(),
            subject: Subject {
                name: t.name,
                role,
                nationality: t.nationality,
                cois: t.cois,
                clearance,
                posture: None,
                authn: "jwt".into(),
            },
            fingerprint: String::new(),
            spki: None,
            dpop_jkt: t.confirmation_jkt,
        })
    }
}
