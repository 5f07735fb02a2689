//! Who may talk to the webhook, over real TLS on loopback: `/audit` refuses senders without a
//! client certificate or an accepted bearer token, certificates must come from the client CA,
//! tokens are checked with a TokenReview against a test API server through the kube client, and
//! `/metrics` can be protected the same way.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::routing::post;
use common::*;
use palisade_server::{client_ca, self_signed, Access, AuthConfig, KubeTokenReviewer};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use rustls::pki_types::pem::PemObject;
use serde_json::{json, Value};

/// A CA for client certificates and the PEM (certificate and key) of a client it signed.
struct ClientPki {
    ca_pem: String,
    client_pem: String,
}

fn client_pki(common_name: &str) -> ClientPki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "audit senders");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name
        .push(DnType::CommonName, common_name);
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    ClientPki {
        ca_pem: ca_cert.pem(),
        client_pem: format!("{}{}", cert.pem(), key.serialize_pem()),
    }
}

fn client_with(server: &TestServer, identity: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(server.cert.ca_pem.as_bytes()).unwrap(),
        )
        .resolve(HOST, server.addr)
        .no_proxy();
    if let Some(pem) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

fn events(n: usize) -> String {
    let items: Vec<Value> = (0..n)
        .map(|i| json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": format!("a-{i}"), "verb": "get"}))
        .collect();
    json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": items}).to_string()
}

async fn send_events(
    client: &reqwest::Client,
    server: &TestServer,
    token: Option<&str>,
    body: String,
) -> (u16, Option<String>, Value) {
    let mut request = client
        .post(server.url("/audit"))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.bytes().await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, challenge, body)
}

fn received(server: &TestServer) -> u64 {
    server
        .state
        .metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix("palisade_audit_events_received_total "))
        .map_or(0, |v| v.parse().unwrap())
}

#[tokio::test]
async fn audit_needs_a_client_certificate_from_the_client_ca() {
    let senders = client_pki("kube-apiserver-audit");
    let strangers = client_pki("kube-apiserver-audit");
    let server = serve_with(RULES, "", |config| {
        config.client_ca = Some(client_ca(senders.ca_pem.as_bytes()).unwrap());
    })
    .await;

    // No certificate, no token: 401 with a challenge, nothing counted.
    let anonymous = client_with(&server, None);
    let (status, challenge, body) = send_events(&anonymous, &server, None, events(3)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(challenge.as_deref(), Some("Bearer"));
    assert_eq!(body["reason"], "unauthenticated");
    // A token is not accepted when no TokenReview is configured.
    let (status, _, body) = send_events(&anonymous, &server, Some("t0ken"), events(1)).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("tokens_disabled"))
    );
    assert_eq!(received(&server), 0);

    // A certificate from another CA does not get through the handshake.
    let stranger = client_with(&server, Some(&strangers.client_pem));
    assert!(stranger
        .post(server.url("/audit"))
        .body(events(1))
        .send()
        .await
        .is_err());

    // The client CA's certificate is accepted.
    let sender = client_with(&server, Some(&senders.client_pem));
    let (status, _, body) = send_events(&sender, &server, None, events(3)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(received(&server), 3);
    let lines = server.log_lines();
    let line = lines
        .iter()
        .find(|l| l["message"] == "audit events received")
        .unwrap();
    assert_eq!(line["sender"], "kube-apiserver-audit");
    assert_eq!(line["events"], 3);

    // Not an EventList: 400.
    let (status, _, body) = send_events(&sender, &server, None, "{\"kind\":\"Pod\"}".into()).await;
    assert_eq!((status, body["reason"].as_str()), (400, Some("wrong_kind")));

    // The admission endpoints stay open to clients without certificates.
    let response = server
        .validate(&review("open", pod("p", vec![good_container("c")]), None))
        .await;
    assert_eq!(response["allowed"], true);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn only_listed_identities_pass_when_a_list_is_given() {
    let senders = client_pki("someone-else");
    let server = serve_with(RULES, "", |config| {
        config.client_ca = Some(client_ca(senders.ca_pem.as_bytes()).unwrap());
        config.auth.allow = vec!["kube-apiserver-audit".to_owned()];
    })
    .await;
    let client = client_with(&server, Some(&senders.client_pem));
    let (status, _, body) = send_events(&client, &server, None, events(1)).await;
    assert_eq!((status, body["reason"].as_str()), (403, Some("forbidden")));
    assert!(body["error"].as_str().unwrap().contains("\"someone-else\""));
    assert_eq!(received(&server), 0);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_can_be_protected_and_audit_explicitly_opened() {
    let server = serve_with(RULES, "", |config| {
        config.auth.metrics = Access::Authenticated;
        config.auth.audit = Access::Open;
    })
    .await;
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let client = client_with(&server, None);
    let (status, _, _) = send_events(&client, &server, None, events(2)).await;
    assert_eq!(status, 200);
    assert_eq!(received(&server), 2);
    server.running.shutdown().await.unwrap();
}

/// A stand-in for the Kubernetes API server's TokenReview endpoint, over TLS on loopback: the
/// token `good` belongs to the audit sender, `other` to some pod, anything else is invalid.
async fn token_api(delay: Duration) -> (SocketAddr, String, Arc<AtomicUsize>) {
    let cert = self_signed(&["127.0.0.1".to_owned()]).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/apis/authentication.k8s.io/v1/tokenreviews",
        post(move |body: axum::body::Bytes| {
            counter.fetch_add(1, Ordering::SeqCst);
            let review: Value = serde_json::from_slice(&body).unwrap_or_default();
            let token = review["spec"]["token"].as_str().unwrap_or_default().to_owned();
            let status = match token.as_str() {
                "good" => json!({"authenticated": true, "user": {"username": "system:serviceaccount:kube-system:audit-sender"}}),
                "other" => json!({"authenticated": true, "user": {"username": "system:serviceaccount:team-a:app"}}),
                _ => json!({"authenticated": false, "error": "invalid bearer token"}),
            };
            let answer = json!({
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "metadata": {},
                "spec": review["spec"],
                "status": status,
            });
            async move {
                tokio::time::sleep(delay).await;
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    answer.to_string(),
                )
            }
        }),
    );
    let tls = axum_server::tls_rustls::RustlsConfig::from_config(
        palisade_server::server_config(cert.cert_pem.as_bytes(), cert.key_pem.as_bytes(), None)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        axum_server::from_tcp_rustls(listener, tls)
            .unwrap()
            .serve(app.into_make_service()),
    );
    (addr, cert.ca_pem, calls)
}

/// A TokenReview client of the test API server at `api`.
fn reviewer(api: SocketAddr, api_ca: &str) -> KubeTokenReviewer {
    let mut kube_config = kube::Config::new(format!("https://{api}").parse().unwrap());
    kube_config.root_cert = Some(vec![rustls::pki_types::CertificateDer::from_pem_slice(
        api_ca.as_bytes(),
    )
    .unwrap()
    .to_vec()]);
    KubeTokenReviewer::new(kube::Client::try_from(kube_config).unwrap(), Vec::new())
}

#[tokio::test]
async fn a_slow_token_review_refuses_the_caller_instead_of_holding_it() {
    let (api, api_ca, calls) = token_api(Duration::from_secs(30)).await;
    let server = serve_with(RULES, "", |config| {
        config.auth = AuthConfig {
            allow: vec!["system:serviceaccount:kube-system:audit-sender".to_owned()],
            tokens: Some(Arc::new(
                reviewer(api, &api_ca).with_timeout(Duration::from_millis(300)),
            )),
            ..AuthConfig::default()
        };
    })
    .await;
    let client = client_with(&server, None);
    let (status, _, body) = send_events(&client, &server, Some("good"), events(1)).await;
    assert_eq!(
        (status, body["reason"].as_str()),
        (401, Some("token_review_failed")),
        "{body}"
    );
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("did not answer within 300 ms"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(received(&server), 0);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn bearer_tokens_are_checked_with_the_clusters_token_review() {
    let (api, api_ca, calls) = token_api(Duration::ZERO).await;
    let reviewer = reviewer(api, &api_ca);
    let server = serve_with(RULES, "", |config| {
        config.auth = AuthConfig {
            allow: vec!["system:serviceaccount:kube-system:audit-sender".to_owned()],
            tokens: Some(Arc::new(reviewer)),
            ..AuthConfig::default()
        };
    })
    .await;
    let client = client_with(&server, None);

    let (status, _, body) = send_events(&client, &server, Some("forged"), events(1)).await;
    assert_eq!((status, body["reason"].as_str()), (401, Some("bad_token")));
    // A valid token of another service account: authenticated, but not allowed.
    let (status, _, body) = send_events(&client, &server, Some("other"), events(1)).await;
    assert_eq!((status, body["reason"].as_str()), (403, Some("forbidden")));
    assert_eq!(received(&server), 0);

    let (status, _, body) = send_events(&client, &server, Some("good"), events(4)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = send_events(&client, &server, Some("good"), events(1)).await;
    assert_eq!(status, 200);
    assert_eq!(received(&server), 5);
    // Three distinct tokens were reviewed; the second use of `good` came from the cache.
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_can_have_a_port_of_their_own() {
    let server = serve_with(RULES, "", |config| {
        config.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let metrics_addr = server.running.metrics_addr().unwrap();
    assert_ne!(metrics_addr, server.addr);
    let url = |path: &str| format!("https://{HOST}:{}{path}", metrics_addr.port());
    let ops = client(&server.cert.ca_pem, metrics_addr);
    let response = ops.get(url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("palisade_connections_broken_total"));
    assert_eq!(ops.get(url("/readyz")).send().await.unwrap().status(), 200);
    // Admission and audit requests are not served there, and metrics not on the webhook port.
    let status = ops
        .post(url("/validate"))
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
    assert_eq!(
        ops.post(url("/audit"))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let on_webhook_port = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(on_webhook_port.status(), 404);
    server.running.shutdown().await.unwrap();
}
