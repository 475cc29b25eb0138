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
    verifier: Verifier,
    pdp: Arc<Pdp>,
}

/// Largest JWKS file read.
const MAX_JWKS_FILE: u64 = 1024 * 1024;

impl Tokens {
    /// The verifier the configuration asks for: `None` when OIDC is off (no `oidc.issuer`); an error naming the
    /// missing key when it is half configured, or when the JWKS file is unreadable.
    pub fn from_config(config: &Config, pdp: Arc<Pdp>) -> Result<Option<Tokens>, String> {
        let (issuer, audience, jwks_file) =
            match (&config.oidc_issuer, &config.oidc_audience, &config.oidc_jwks_file) {
                (None, None, None) => return Ok(None),
                (Some(i), Some(a), Some(f)) => (i, a, f),
                _ => {
                    return Err(
                        "OIDC needs all of `oidc.issuer`, `oidc.audience` and `oidc.jwks_file`; set the \
                            missing ones or remove them all"
                            .into(),
                    );
                }
            };
        let meta = std::fs::metadata(jwks_file)
            .map_err(|e| format!("cannot read the OIDC key set `{}`: {e}", jwks_file.display()))?;
        if meta.len() > MAX_JWKS_FILE {
            return Err(format!("the OIDC key set `{}` is larger than 1 MiB", jwks_file.display()));
        }
        let bytes = std::fs::read(jwks_file)
            .map_err(|e| format!("cannot read the OIDC key set `{}`: {e}", jwks_file.display()))?;
        let jwks = Jwks::from_json(&bytes)
            .map_err(|e| format!("the OIDC key set `{}` is not usable: {e}", jwks_file.display()))?;
        let verifier = Verifier::new(jwks, VerifierConfig::new(issuer.clone(), audience.clone()));
        Ok(Some(Tokens { verifier, pdp }))
    }

    /// The principal of a bearer token, or why it is refused (never echoing the token).
    pub fn principal(&self, token: &str) -> Result<Arc<Principal>, String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = self.verifier.verify(token, now).map_err(|e| format!("bearer token refused: {e}"))?;
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
        })
    }
}
