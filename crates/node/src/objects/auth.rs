//! Who is calling the S3 API: the SigV4 access key (s3s checks the signature with the secret from
//! [`Keys`]), else the client certificate. When both are present they must name the same identity.

use std::sync::Arc;

use redoubt_policy::Subject;
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

use crate::identities::Registry;
use crate::identity::PeerCert;
use crate::objects::Caller;

/// Secret keys by access key id, from the live registry (a revoked key fails on the next request).
#[derive(Debug, Clone)]
pub struct Keys(pub Arc<Registry>);

#[async_trait::async_trait]
impl S3Auth for Keys {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.0.by_access_key(access_key) {
            Some((_, secret)) => Ok(SecretKey::from(secret.as_str())),
            None => Err(s3_error!(InvalidAccessKeyId, "unknown or revoked access key")),
        }
    }
}

/// Resolves the caller of every S3 request into a [`Caller`] in the request's extensions.
#[derive(Debug, Clone)]
pub struct Access(pub Arc<Registry>);

#[async_trait::async_trait]
impl S3Access for Access {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        let cert = cx.extensions_mut().get::<PeerCert>().and_then(|p| p.0.clone());
        let by_cert = cert.as_deref().and_then(|fp| self.0.by_fingerprint(fp));
        let (principal, authn) = match cx.credentials() {
            Some(creds) => {
                let Some((principal, _)) = self.0.by_access_key(&creds.access_key) else {
                    return Err(s3_error!(InvalidAccessKeyId, "unknown or revoked access key"));
                };
                if let Some(other) = &by_cert
                    && other.name != principal.name
                {
                    return Err(s3_error!(
                        AccessDenied,
                        "the client certificate and the access key belong to different identities"
                    ));
                }
                (principal, "sigv4")
            }
            None => {
                match (cx.extensions_mut().get::<crate::tokens::TokenPeer>().map(|t| t.0.clone()), by_cert) {
                    // A token names the user; a certificate alongside it is the device it came from.
                    (Some(p), _) => (p, "jwt"),
                    (None, Some(p)) => (p, "mtls"),
                    (None, None) => {
                        return Err(s3_error!(
                            AccessDenied,
                            "authentication required: sign the request (SigV4) with an access key from `redoubt \
                         identity create`, or present a client certificate issued by this node"
                        ));
                    }
                }
            }
        };
        let subject = Subject { authn: authn.to_owned(), ..principal.subject.clone() };
        cx.extensions_mut().insert(Caller {
            principal,
            subject: Arc::new(subject),
            device: cert.map(|c| c.to_string()),
        });
        Ok(())
    }
}
