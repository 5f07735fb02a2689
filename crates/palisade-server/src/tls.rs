//! Certificates: loading PEM files into a rustls configuration (ring provider), generating a
//! self-signed CA and serving certificate, and reloading the files when they change.
//!
//! TLS 1.3 and 1.2 only, with the ring provider's default cipher suites: TLS 1.3 AES-256-GCM,
//! AES-128-GCM and ChaCha20-Poly1305; TLS 1.2 ECDHE (ECDSA or RSA) with AES-GCM or
//! ChaCha20-Poly1305. Serving keys: ECDSA P-256 or P-384, Ed25519, or RSA of 2048 bits or more,
//! in PEM (PKCS#8, PKCS#1 or SEC1). A private key file readable by every user is refused.

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
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

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
    #[error("{path} is readable by every user (mode {mode:o}); make it readable by its owner (and group) only, e.g. chmod 600 or a Secret volume with defaultMode 0440")]
    WorldReadable { path: String, mode: u32 },
    #[error("bad client CA: {0}")]
    ClientCa(String),
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The CA certificates (PEM) that sign the client certificates palisade accepts.
pub fn client_ca(pem: &[u8]) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| TlsError::ClientCa(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| TlsError::ClientCa(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(TlsError::ClientCa("no CERTIFICATE block".to_owned()));
    }
    Ok(Arc::new(roots))
}

/// The rustls server configuration for a PEM certificate chain and private key, with the ring
/// provider and ALPN for HTTP/2 and HTTP/1.1. With `client_ca`, clients may present a
/// certificate, which must then be signed by it (the endpoints decide whether one is needed).
pub fn server_config(
    cert_pem: &[u8],
    key_pem: &[u8],
    client_ca: Option<&Arc<RootCertStore>>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::Certificate("no CERTIFICATE block".to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Key(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        Some(roots) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots.clone(), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::ClientCa(e.to_string()))?,
        ),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Reads a certificate and key from PEM files; a key file readable by every user is refused.
pub fn load_files(
    cert: &Path,
    key: &Path,
    client_ca: Option<&Arc<RootCertStore>>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.display().to_string(),
            source,
        })
    };
    let cert = read(cert)?;
    not_world_readable(key)?;
    server_config(&cert, &read(key)?, client_ca)
}

#[cfg(unix)]
fn not_world_readable(path: &Path) -> Result<(), TlsError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| TlsError::Read {
            path: path.display().to_string(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o004 != 0 {
        return Err(TlsError::WorldReadable {
            path: path.display().to_string(),
            mode: mode & 0o777,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn not_world_readable(_: &Path) -> Result<(), TlsError> {
    Ok(())
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
/// half written, a key that does not match, a deleted file) is logged and counted once per
/// state of the files and retried at the next poll; the previous certificate stays in use.
pub(crate) async fn watch(
    files: CertFiles,
    client_ca: Option<Arc<RootCertStore>>,
    tls: RustlsConfig,
    interval: Duration,
    state: Arc<State>,
) {
    let (metrics, log) = (&state.metrics, &state.log);
    let mut last = (stamp(&files.cert), stamp(&files.key));
    // The files as they were at the last failed load: each broken state is reported once.
    let mut failed = None;
    loop {
        tokio::time::sleep(interval).await;
        let now = (stamp(&files.cert), stamp(&files.key));
        if now == last {
            continue;
        }
        match load_files(&files.cert, &files.key, client_ca.as_ref()) {
            Ok(config) => {
                tls.reload_from_config(config);
                last = now;
                failed = None;
                metrics.reload(true);
                log.emit(|| {
                    tracing::info!(
                        cert = %files.cert.display(),
                        "reloaded the TLS certificate"
                    )
                });
            }
            Err(err) => {
                if failed != Some(now) {
                    metrics.reload(false);
                    log.emit(|| {
                        tracing::error!(
                            cert = %files.cert.display(),
                            error = %err,
                            "cannot reload the TLS certificate; keeping the previous one"
                        )
                    });
                }
                failed = Some(now);
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
        let config = server_config(
            generated.cert_pem.as_bytes(),
            generated.key_pem.as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(config.alpn_protocols[0], b"h2");
        let bundle = base64::engine::general_purpose::STANDARD
            .decode(generated.ca_bundle())
            .unwrap();
        assert_eq!(bundle, generated.ca_pem.as_bytes());
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let generated = self_signed(&["a".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
        std::fs::write(&cert, &generated.cert_pem).unwrap();
        std::fs::write(&key, &generated.key_pem).unwrap();
        for (mode, ok) in [(0o600, true), (0o640, true), (0o644, false), (0o604, false)] {
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(mode)).unwrap();
            let result = load_files(&cert, &key, None);
            assert_eq!(result.is_ok(), ok, "mode {mode:o}");
            if let Err(err) = result {
                assert!(matches!(err, TlsError::WorldReadable { .. }));
                assert!(err.to_string().contains("readable by every user"), "{err}");
            }
        }
    }

    #[test]
    fn client_ca_needs_a_certificate() {
        let generated = self_signed(&["a".to_owned()]).unwrap();
        assert_eq!(client_ca(generated.ca_pem.as_bytes()).unwrap().len(), 1);
        assert!(matches!(client_ca(b"junk"), Err(TlsError::ClientCa(_))));
    }

    #[test]
    fn mismatched_or_garbage_pem_is_an_error() {
        let a = self_signed(&["a".to_owned()]).unwrap();
        let b = self_signed(&["b".to_owned()]).unwrap();
        assert!(server_config(a.cert_pem.as_bytes(), b.key_pem.as_bytes(), None).is_err());
        assert!(matches!(
            server_config(b"junk", a.key_pem.as_bytes(), None),
            Err(TlsError::Certificate(_))
        ));
        assert!(matches!(
            server_config(a.cert_pem.as_bytes(), b"junk", None),
            Err(TlsError::Key(_))
        ));
        assert!(matches!(
            load_files(
                Path::new("/nonexistent/cert"),
                Path::new("/nonexistent/key"),
                None
            ),
            Err(TlsError::Read { .. })
        ));
    }
}
