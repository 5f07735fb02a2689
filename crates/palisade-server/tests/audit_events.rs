//! `POST /audit` evaluates the events in the background: the sender gets its answer at once, the
//! alerts of palisade's event rules and of the per-object rules on request objects are written
//! as JSON lines in Falco's format, and `/metrics` counts the events evaluated and the alerts by
//! rule and priority. Over real TLS on loopback, from a sender with a client certificate.

mod common;

use std::time::{Duration, Instant};

use common::*;
use palisade_server::{client_ca, AuditOutput};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
};
use serde_json::{json, Value};

fn sender_pki() -> (String, String) {
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
        .push(DnType::CommonName, "kube-apiserver-audit");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (
        ca_cert.pem(),
        format!("{}{}", cert.pem(), key.serialize_pem()),
    )
}

fn event_list() -> String {
    let exec = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "1",
        "stage": "ResponseStarted", "verb": "create", "user": {"username": "mallory"},
        "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "shop", "name": "web"},
        "responseStatus": {"code": 101}, "stageTimestamp": "2024-05-01T10:00:00Z"});
    let pod = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "2",
        "stage": "ResponseComplete", "verb": "create", "user": {"username": "mallory"},
        "objectRef": {"resource": "pods", "namespace": "shop", "name": "p", "apiVersion": "v1"},
        "responseStatus": {"code": 201}, "stageTimestamp": "2024-05-01T10:00:01Z",
        "requestObject": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25",
                "securityContext": {"privileged": true}}]}}});
    let quiet = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "3",
        "stage": "ResponseComplete", "verb": "list", "user": {"username": "alice"},
        "objectRef": {"resource": "pods", "namespace": "shop"},
        "responseStatus": {"code": 200}, "stageTimestamp": "2024-05-01T10:00:02Z"});
    json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [exec, pod, quiet]})
        .to_string()
}

fn metric(server: &TestServer, prefix: &str) -> Option<u64> {
    server
        .state
        .metrics
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(prefix).map(|v| v.trim().parse().unwrap()))
}

#[tokio::test]
async fn audit_events_are_evaluated_in_the_background() {
    let (ca_pem, client_pem) = sender_pki();
    let dir = tempfile::tempdir().unwrap();
    let alerts_path = dir.path().join("alerts.jsonl");
    let path = alerts_path.clone();
    let server = serve_with("select: [EVT001, POD001]\n", "", move |config| {
        config.client_ca = Some(client_ca(ca_pem.as_bytes()).unwrap());
        config.audit_output = AuditOutput::File(path);
    })
    .await;
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(server.cert.ca_pem.as_bytes()).unwrap(),
        )
        .identity(reqwest::Identity::from_pem(client_pem.as_bytes()).unwrap())
        .resolve(HOST, server.addr)
        .no_proxy()
        .build()
        .unwrap();
    let response = client
        .post(server.url("/audit"))
        .header("content-type", "application/json")
        .body(event_list())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);

    let started = Instant::now();
    while metric(&server, "palisade_audit_events_total ") != Some(3) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "events not evaluated"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        metric(
            &server,
            "palisade_audit_alerts_total{rule=\"EVT001\",priority=\"Warning\"} "
        ),
        Some(1)
    );
    assert_eq!(
        metric(
            &server,
            "palisade_audit_alerts_total{rule=\"POD001\",priority=\"Critical\"} "
        )
        .or_else(|| metric(
            &server,
            "palisade_audit_alerts_total{rule=\"POD001\",priority=\"Error\"} "
        )),
        Some(1)
    );
    assert_eq!(
        metric(&server, "palisade_audit_events_dropped_total "),
        Some(0)
    );
    assert_eq!(
        metric(&server, "palisade_audit_events_received_total "),
        Some(3)
    );

    let text = std::fs::read_to_string(&alerts_path).unwrap();
    let alerts: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(alerts.len(), 2, "{text}");
    assert_eq!(alerts[0]["rule"], "EVT001");
    assert_eq!(alerts[0]["source"], "k8s_audit");
    assert_eq!(alerts[0]["time"], "2024-05-01T10:00:00.000000000Z");
    assert_eq!(alerts[1]["rule"], "POD001");
    assert_eq!(
        alerts[1]["output_fields"]["palisade.pointer"],
        "/requestObject/spec/containers/0/securityContext/privileged"
    );
}
