//! Who may call the protected endpoints: `/audit` always (unless explicitly opened), `/metrics`
//! when asked. A caller proves who it is with a client certificate that rustls verified against
//! `--client-ca`, or with a bearer token that the cluster's TokenReview API accepts.
//!
//! Identities: a certificate's subject common name, a token's username. Certificates signed by
//! the client CA are trusted as such (the CA exists for palisade's callers); a token is only
//! accepted for an identity listed with `--allow-identity`, since every pod in a cluster can get
//! a valid service account token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use axum_server::tls::TlsInfo;
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use kube::api::PostParams;

/// Whether an endpoint needs an authenticated caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone who reaches the port.
    Open,
    /// A verified client certificate or an accepted bearer token.
    Authenticated,
}

/// The result of a token review: the username when the token is valid.
pub type TokenVerdict = Result<Option<String>, String>;

/// Checks bearer tokens.
pub trait TokenReviewer: Send + Sync {
    fn review<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = TokenVerdict> + Send + 'a>>;
}

/// Who may call what.
#[derive(Clone)]
pub struct AuthConfig {
    pub audit: Access,
    pub metrics: Access,
    /// Identities allowed on protected endpoints. Empty: any verified client certificate, and
    /// no token.
    pub allow: Vec<String>,
    pub tokens: Option<Arc<dyn TokenReviewer>>,
}

impl Default for AuthConfig {
    /// `/audit` needs an authenticated caller, `/metrics` is open, no tokens.
    fn default() -> Self {
        AuthConfig {
            audit: Access::Authenticated,
            metrics: Access::Open,
            allow: Vec::new(),
            tokens: None,
        }
    }
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("audit", &self.audit)
            .field("metrics", &self.metrics)
            .field("allow", &self.allow)
            .field("tokens", &self.tokens.is_some())
            .finish()
    }
}

/// Why a caller was refused: the HTTP status (401 or 403), a metric reason and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
    pub message: String,
}

impl AuthConfig {
    /// The caller's identity when `access` lets it in.
    pub(crate) async fn check(
        &self,
        access: Access,
        headers: &HeaderMap,
        tls: Option<&TlsInfo>,
    ) -> Result<Option<String>, Refusal> {
        if access == Access::Open {
            return Ok(None);
        }
        if let Some(der) = tls.and_then(|info| info.peer_certificates.first()) {
            let name = common_name(der).ok_or_else(|| Refusal {
                status: 403,
                reason: "no_common_name",
                message: "the client certificate has no subject common name".to_owned(),
            })?;
            if self.allow.is_empty() || self.allow.contains(&name) {
                return Ok(Some(name));
            }
            return Err(forbidden(&name));
        }
        let Some(token) = bearer(headers) else {
            return Err(Refusal {
                status: 401,
                reason: "unauthenticated",
                message: "this endpoint needs a client certificate or a bearer token".to_owned(),
            });
        };
        let Some(reviewer) = &self.tokens else {
            return Err(Refusal {
                status: 401,
                reason: "tokens_disabled",
                message: "bearer tokens are not accepted (start with --token-review)".to_owned(),
            });
        };
        match reviewer.review(token).await {
            Ok(Some(name)) if self.allow.contains(&name) => Ok(Some(name)),
            Ok(Some(name)) => Err(forbidden(&name)),
            Ok(None) => Err(Refusal {
                status: 401,
                reason: "bad_token",
                message: "the bearer token was not accepted by the cluster".to_owned(),
            }),
            Err(err) => Err(Refusal {
                status: 401,
                reason: "token_review_failed",
                message: format!("the bearer token could not be reviewed: {err}"),
            }),
        }
    }
}

fn forbidden(name: &str) -> Refusal {
    Refusal {
        status: 403,
        reason: "forbidden",
        message: format!("{name:?} is not an identity allowed here (--allow-identity)"),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The subject common name of a DER certificate.
fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let name = cert.subject().iter_common_name().next()?;
    name.as_str().ok().map(str::to_owned)
}

/// Token reviews answered recently: the answer and when it came, by the token's SHA-256.
type ReviewCache = HashMap<[u8; 32], (Instant, Option<String>)>;

/// How long a token review's answer is reused, and how many are kept.
const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_ENTRIES: usize = 1024;
/// How long a token review may take before the caller is refused: a slow API server must not
/// hold requests (and their connections) open.
const REVIEW_TIMEOUT: Duration = Duration::from_secs(5);

/// Reviews tokens with the cluster's TokenReview API, caching answers (by the token's SHA-256,
/// never the token itself) for a minute.
pub struct KubeTokenReviewer {
    client: kube::Client,
    audiences: Vec<String>,
    timeout: Duration,
    cache: Mutex<ReviewCache>,
}

impl KubeTokenReviewer {
    pub fn new(client: kube::Client, audiences: Vec<String>) -> KubeTokenReviewer {
        KubeTokenReviewer {
            client,
            audiences,
            timeout: REVIEW_TIMEOUT,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Replaces the time allowed for one review (5 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> KubeTokenReviewer {
        self.timeout = timeout;
        self
    }

    /// A reviewer for the cluster palisade runs in, or the current kubeconfig context.
    pub async fn infer(audiences: Vec<String>) -> Result<KubeTokenReviewer, kube::Error> {
        Ok(KubeTokenReviewer::new(
            kube::Client::try_default().await?,
            audiences,
        ))
    }

    async fn ask(&self, token: &str) -> TokenVerdict {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: Some(token.to_owned()),
                audiences: (!self.audiences.is_empty()).then(|| self.audiences.clone()),
            },
            ..TokenReview::default()
        };
        let api = kube::Api::<TokenReview>::all(self.client.clone());
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|err| err.to_string())?;
        let status = answer.status.unwrap_or_default();
        if status.authenticated != Some(true) {
            return Ok(None);
        }
        Ok(status.user.and_then(|user| user.username))
    }
}

impl TokenReviewer for KubeTokenReviewer {
    fn review<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = TokenVerdict> + Send + 'a>> {
        Box::pin(async move {
            let key: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
                .as_ref()
                .try_into()
                .unwrap_or([0; 32]);
            if let Ok(cache) = self.cache.lock() {
                if let Some((at, verdict)) = cache.get(&key) {
                    if at.elapsed() < CACHE_TTL {
                        return Ok(verdict.clone());
                    }
                }
            }
            let verdict = tokio::time::timeout(self.timeout, self.ask(token))
                .await
                .map_err(|_| {
                    format!(
                        "the cluster did not answer within {} ms",
                        self.timeout.as_millis()
                    )
                })??;
            if let Ok(mut cache) = self.cache.lock() {
                if cache.len() >= CACHE_ENTRIES {
                    cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
                    if cache.len() >= CACHE_ENTRIES {
                        cache.clear();
                    }
                }
                cache.insert(key, (Instant::now(), verdict.clone()));
            }
            Ok(verdict)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_tokens_are_read_from_the_authorization_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  xyz "),
        );
        assert_eq!(bearer(&headers), Some("xyz"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn common_names_come_from_the_subject() {
        let generated = crate::tls::self_signed(&["audit-sender".to_owned()]).unwrap();
        let der = rustls::pki_types::CertificateDer::from_pem_slice(generated.cert_pem.as_bytes());
        use rustls::pki_types::pem::PemObject;
        assert_eq!(common_name(&der.unwrap()).as_deref(), Some("audit-sender"));
        assert_eq!(common_name(b"junk"), None);
    }
}
