//! Certificates: loading PEM files into a rustls configuration (ring provider), generating a
//! self-signed CA and serving certificate, and reloading the files when they change.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

use crate::review::State;
use axum_server::tls_rustls::RustlsConfig;
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate problem.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("bad certificate: {0}")]
    Certificate(String),
    #[error("bad private key: {0}")]
    Key(String),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The rustls server configuration for a PEM certificate chain and private key, with the ring
/// provider and ALPN for HTTP/2 and HTTP/1.1.
pub fn server_config(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Certificate("no CERTIFICATE block".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads a certificate and key from PEM files.
pub fn load_files(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    server_config(&read(cert)?, &read(key)?)
}

/// A generated CA and a serving certificate it signed.
#[derive(Debug, Clone)]
pub struct SelfSigned {
    /// The CA certificate (PEM): what the webhook configuration's `caBundle` trusts.
    pub ca_pem: String,
    /// The serving certificate (PEM), valid for the DNS names asked for.
    pub cert_pem: String,
    /// The serving certificate's private key (PEM, PKCS#8).
    pub key_pem: String,
}

impl SelfSigned {
    /// The `caBundle` value of a webhook configuration: the CA PEM in base64.
    pub fn ca_bundle(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }
}

/// Generates a CA (valid ten years) and a serving certificate for `names` (DNS names or IP
/// addresses, valid one year), both with ECDSA P-256 keys.
pub fn self_signed(names: &[String]) -> Result<SelfSigned, TlsError> {
    let now = OffsetDateTime::now_utc();
    let date = |days: i64| now + time::Duration::days(days);

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, "palisade webhook CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = date(-1);
    ca.not_after = date(3650);
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names.to_vec())?;
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(
        DnType::CommonName,
        names.first().map_or("palisade", String::as_str),
    );
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = date(-1);
    leaf.not_after = date(365);
    let cert = leaf.signed_by(&key, &issuer)?;
    Ok(SelfSigned {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Certificate and key files watched for changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Polls the files' modification time and size every `interval`; when either changed and both
/// load, swaps the configuration new connections use. A pair that does not load (a rotation
/// half written) is retried at the next poll; the previous certificate stays in use.
pub(crate) async fn watch(
    files: CertFiles,
    tls: RustlsConfig,
    interval: Duration,
    state: Arc<State>,
) {
    let (metrics, log) = (&state.metrics, &state.log);
    let mut last = (stamp(&files.cert), stamp(&files.key));
    let mut failing = false;
    loop {
        tokio::time::sleep(interval).await;
        let now = (stamp(&files.cert), stamp(&files.key));
        if now == last {
            continue;
        }
        match load_files(&files.cert, &files.key) {
            Ok(config) => {
                tls.reload_from_config(config);
                last = now;
                failing = false;
                metrics.reload(true);
                log.emit(|| {
                    tracing::info!(
                        cert = %files.cert.display(),
                        "reloaded the TLS certificate"
                    )
                });
            }
            Err(err) => {
                if !failing {
                    metrics.reload(false);
                    log.emit(|| {
                        tracing::error!(
                            cert = %files.cert.display(),
                            error = %err,
                            "cannot reload the TLS certificate; keeping the previous one"
                        )
                    });
                }
                failing = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_certificate_loads() {
        let generated =
            self_signed(&["palisade.palisade.svc".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        assert!(generated.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(generated.key_pem.contains("PRIVATE KEY"));
        let config =
            server_config(generated.cert_pem.as_bytes(), generated.key_pem.as_bytes()).unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
        let bundle = base64::engine::general_purpose::STANDARD
            .decode(generated.ca_bundle())
            .unwrap();
        assert_eq!(bundle, generated.ca_pem.as_bytes());
    }

    #[test]
    fn mismatched_or_garbage_pem_is_an_error() {
        let a = self_signed(&["a".to_owned()]).unwrap();
        let b = self_signed(&["b".to_owned()]).unwrap();
        assert!(server_config(a.cert_pem.as_bytes(), b.key_pem.as_bytes()).is_err());
        assert!(matches!(
            server_config(b"junk", a.key_pem.as_bytes()),
            Err(TlsError::Certificate(_))
        ));
        assert!(matches!(
            server_config(a.cert_pem.as_bytes(), b"junk"),
            Err(TlsError::Key(_))
        ));
        assert!(matches!(
            load_files(
                Path::new("/nonexistent/cert"),
                Path::new("/nonexistent/key")
            ),
            Err(TlsError::Read { .. })
        ));
    }
}
