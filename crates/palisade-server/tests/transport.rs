//! The HTTPS side: bad requests, body limit, slow clients, concurrency, health, metrics and
//! certificate hot reload.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use palisade_server::{start, CertFiles, ServerConfig, TlsSource};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Reads until the server closes the connection (bounded, so a bug cannot hang the test).
async fn read_all(stream: &mut TlsStream<TcpStream>) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

fn error_reason(body: &Value) -> &str {
    body["reason"].as_str().unwrap_or("")
}

#[tokio::test]
async fn metrics_show_their_series_at_zero_from_the_start() {
    let server = serve(RULES, "").await;
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        r#"palisade_admission_reviews_total{endpoint="validate",operation="CREATE",kind="Pod",verdict="denied"} 0"#,
        r#"palisade_admission_reviews_total{endpoint="mutate",operation="other",kind="other",verdict="allowed"} 0"#,
        r#"palisade_admission_findings_total{endpoint="validate",rule="POD001",mode="enforce"} 0"#,
        r#"palisade_admission_findings_total{endpoint="validate",rule="POD001",mode="audit"} 0"#,
        r#"palisade_admission_findings_total{endpoint="mutate",rule="POD004",mode="fixed"} 0"#,
        r#"palisade_admission_review_duration_seconds_count{endpoint="validate"} 0"#,
        r#"palisade_admission_review_duration_seconds_count{endpoint="mutate"} 0"#,
        r#"palisade_admission_errors_total{endpoint="mutate",reason="body_too_large"} 0"#,
        r#"palisade_admission_errors_total{endpoint="audit",reason="bad_events"} 0"#,
        r#"palisade_admission_errors_total{endpoint="metrics",reason="forbidden"} 0"#,
        r#"palisade_tls_reloads_total{result="ok"} 0"#,
        r#"palisade_tls_reloads_total{result="error"} 0"#,
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    // Only fixable rules have a series for /mutate.
    assert!(!metrics.contains(r#"endpoint="mutate",rule="IMG001""#));
    // Only the reasons an endpoint can give.
    assert!(!metrics.contains(r#"endpoint="metrics",reason="busy""#));
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_clear_4xx_answers() {
    let server = serve(RULES, "").await;
    let good = review("b-0", pod("p", vec![good_container("c")]), None);

    let (status, body) = server.post_raw("/validate", b"{not json".to_vec()).await;
    assert_eq!((status, error_reason(&body)), (400, "not_json"), "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .starts_with("request body is not JSON"));

    let (status, body) = server.post_raw("/validate", Vec::new()).await;
    assert_eq!((status, error_reason(&body)), (400, "not_json"));

    let mut v1beta1 = good.clone();
    v1beta1["apiVersion"] = json!("admission.k8s.io/v1beta1");
    let (status, body) = server.post("/validate", &v1beta1).await;
    assert_eq!((status, error_reason(&body)), (400, "wrong_api_version"));
    assert_eq!(
        body["error"],
        "unsupported apiVersion \"admission.k8s.io/v1beta1\"; expected admission.k8s.io/v1"
    );

    let mut wrong_kind = good.clone();
    wrong_kind["kind"] = json!("Pod");
    let (status, body) = server.post("/mutate", &wrong_kind).await;
    assert_eq!((status, error_reason(&body)), (400, "wrong_kind"));

    let mut no_request = good.clone();
    no_request.as_object_mut().unwrap().remove("request");
    let (status, body) = server.post("/validate", &no_request).await;
    assert_eq!((status, error_reason(&body)), (400, "missing_request"));

    let mut no_uid = good.clone();
    no_uid["request"].as_object_mut().unwrap().remove("uid");
    let (status, body) = server.post("/validate", &no_uid).await;
    assert_eq!((status, error_reason(&body)), (400, "bad_review"));
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("missing field `uid`"));

    let mut no_object = good.clone();
    no_object["request"]["object"] = Value::Null;
    let (status, body) = server.post("/validate", &no_object).await;
    assert_eq!((status, error_reason(&body)), (400, "missing_object"));

    let (status, body) = server.post_raw("/validate", b"[1, 2]".to_vec()).await;
    assert_eq!((status, error_reason(&body)), (400, "bad_review"));

    // 10 MB, declared in Content-Length: refused before it is read.
    let big = vec![b' '; 10_000_000];
    let (status, body) = server.post_raw("/validate", big).await;
    assert_eq!((status, error_reason(&body)), (413, "body_too_large"));

    let response = server
        .client
        .post(server.url("/validate"))
        .header("content-type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);

    let response = server
        .client
        .get(server.url("/validate"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let response = server.client.get(server.url("/nope")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // Still serving, and every rejection was counted.
    assert_eq!(server.validate(&good).await["allowed"], true);
    let metrics = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (endpoint, reason, count) in [
        ("validate", "not_json", 2),
        ("validate", "wrong_api_version", 1),
        ("mutate", "wrong_kind", 1),
        ("validate", "body_too_large", 1),
        ("validate", "bad_review", 2),
        ("validate", "bad_content_type", 1),
    ] {
        let line = format!(
            "palisade_admission_errors_total{{endpoint=\"{endpoint}\",reason=\"{reason}\"}} {count}"
        );
        assert!(metrics.contains(&line), "{line}\n{metrics}");
    }
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_cut_off() {
    let server = serve(RULES, "").await;
    let mut stream = raw_tls(server.addr, &server.cert.ca_pem).await;
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..10 {
        let size = format!("{:x}\r\n", chunk.len());
        if stream.write_all(size.as_bytes()).await.is_err()
            || stream.write_all(&chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_clients_time_out() {
    let server = serve_with(RULES, "", |config| {
        config.body_timeout = Duration::from_millis(300);
        config.header_timeout = Duration::from_millis(300);
    })
    .await;

    // Headers promise a body that never comes.
    let mut stream = raw_tls(server.addr, &server.cert.ca_pem).await;
    let head = format!(
        "POST /validate HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n{{\"apiVersion\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = read_all(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");

    // Half a request line, then nothing: the connection is closed without an answer.
    let mut stream = raw_tls(server.addr, &server.cert.ca_pem).await;
    stream.write_all(b"POST /valid").await.unwrap();
    let answer = read_all(&mut stream).await;
    assert_eq!(answer, "");

    // A TCP connection that never starts TLS does not hold the server either.
    let idle = TcpStream::connect(server.addr).await.unwrap();
    let ok = server
        .validate(&review("t-1", pod("p", vec![good_container("c")]), None))
        .await;
    assert_eq!(ok["allowed"], true);
    drop(idle);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn concurrent_reviews_over_http2_and_http1() {
    let server = serve(RULES, "").await;
    let http1: Vec<reqwest::Client> = (0..16)
        .map(|_| {
            reqwest::Client::builder()
                .use_rustls_tls()
                .tls_built_in_root_certs(false)
                .add_root_certificate(
                    reqwest::Certificate::from_pem(server.cert.ca_pem.as_bytes()).unwrap(),
                )
                .resolve(HOST, server.addr)
                .http1_only()
                .no_proxy()
                .build()
                .unwrap()
        })
        .collect();
    let url = server.url("/validate");
    let mut tasks = Vec::new();
    for task in 0..64usize {
        let client = if task % 2 == 0 {
            server.client.clone()
        } else {
            http1[task % 16].clone()
        };
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let mut denied = 0;
            for i in 0..8usize {
                let uid = format!("c-{task}-{i}");
                let bad = (task + i) % 3 == 0;
                let container = if bad {
                    privileged_container("c")
                } else {
                    good_container("c")
                };
                let object = if i % 2 == 0 {
                    pod("p", vec![container])
                } else {
                    deployment("d", vec![container])
                };
                let body: Value = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(review(&uid, object, None).to_string())
                    .send()
                    .await
                    .unwrap()
                    .json_value()
                    .await;
                assert_eq!(body["response"]["uid"], uid);
                assert_eq!(body["response"]["allowed"], !bad, "{body}");
                denied += usize::from(bad);
            }
            denied
        }));
    }
    let mut denied = 0;
    for task in tasks {
        denied += task.await.unwrap();
    }
    let expected_denied = (0..64usize)
        .flat_map(|t| (0..8usize).map(move |i| (t + i) % 3 == 0))
        .filter(|b| *b)
        .count();
    assert_eq!(denied, expected_denied);
    assert_eq!(
        server
            .log_lines()
            .iter()
            .filter(|l| l["message"] == "review")
            .count(),
        512
    );
    let metrics = server.state.metrics.encode();
    let total: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("palisade_admission_reviews_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 512);
    assert!(metrics
        .contains("palisade_admission_review_duration_seconds_count{endpoint=\"validate\"} 512"));
    server.running.shutdown().await.unwrap();
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        serde_json::from_slice(&self.bytes().await.unwrap()).unwrap()
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let server = serve(RULES, "").await;
    let get = |path: &str| server.client.get(server.url(path)).send();
    let health = get("/healthz").await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.unwrap(), "ok\n");
    assert_eq!(get("/readyz").await.unwrap().status().as_u16(), 200);
    server
        .validate(&review(
            "h-1",
            deployment("d", vec![privileged_container("c")]),
            None,
        ))
        .await;
    let metrics = get("/metrics").await.unwrap();
    assert!(metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains(
        r#"palisade_admission_reviews_total{endpoint="validate",operation="CREATE",kind="Deployment",verdict="denied"} 1"#
    ), "{text}");
    assert!(text.contains(
        r#"palisade_admission_findings_total{endpoint="validate",rule="POD001",mode="enforce"} 1"#
    ), "{text}");
    assert!(text.contains("# TYPE palisade_admission_review_duration_seconds histogram"));
    assert!(text.trim_end().ends_with("# EOF"));
    server.state.set_ready(false);
    assert_eq!(get("/readyz").await.unwrap().status().as_u16(), 503);
    server.running.shutdown().await.unwrap();
}

fn write_pair(dir: &std::path::Path, cert: &palisade_server::SelfSigned) {
    // Written beside and renamed into place, as a Secret volume update swaps them.
    use std::os::unix::fs::PermissionsExt;
    for (name, text) in [("tls.key", &cert.key_pem), ("tls.crt", &cert.cert_pem)] {
        let tmp = dir.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, text).unwrap();
        // Readable by the owner and group only, as a Secret volume with defaultMode 0440.
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o440)).unwrap();
        std::fs::rename(&tmp, dir.join(name)).unwrap();
    }
}

async fn healthy(ca_pem: &str, addr: SocketAddr) -> bool {
    client(ca_pem, addr)
        .get(format!("https://{HOST}:{}/healthz", addr.port()))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test]
async fn certificates_are_reloaded_when_the_files_change() {
    let dir = tempfile::tempdir().unwrap();
    let first = certificate();
    write_pair(dir.path(), &first);
    let (state, logs) = state(RULES, "");
    let mut config = ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        TlsSource::Files(CertFiles {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
        }),
    );
    config.reload_interval = Duration::from_millis(50);
    let running = start(config, state.clone()).await.unwrap();
    let addr = running.local_addr();
    assert!(healthy(&first.ca_pem, addr).await);

    let second = certificate();
    write_pair(dir.path(), &second);
    let mut served = false;
    for _ in 0..200 {
        if healthy(&second.ca_pem, addr).await {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the new certificate was never served");
    assert!(!healthy(&first.ca_pem, addr).await);

    // Each broken state of the files is reported once, and the current certificate stays: an
    // unparsable certificate, one that does not match the key, then a deleted one.
    let errors_reach = |n: u32| {
        let state = state.clone();
        async move {
            let line = format!("palisade_tls_reloads_total{{result=\"error\"}} {n}");
            for _ in 0..200 {
                if state.metrics.encode().contains(&line) {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    std::fs::write(dir.path().join("tls.crt"), "not a certificate").unwrap();
    assert!(
        errors_reach(1).await,
        "the bad certificate was not reported"
    );
    assert!(healthy(&second.ca_pem, addr).await);
    let mismatched = dir.path().join(".tls.crt.tmp");
    std::fs::write(&mismatched, &certificate().cert_pem).unwrap();
    std::fs::rename(&mismatched, dir.path().join("tls.crt")).unwrap();
    assert!(
        errors_reach(2).await,
        "the mismatched pair was not reported"
    );
    std::fs::remove_file(dir.path().join("tls.crt")).unwrap();
    assert!(
        errors_reach(3).await,
        "the deleted certificate was not reported"
    );
    assert!(healthy(&second.ca_pem, addr).await);
    let metrics = state.metrics.encode();
    assert!(
        metrics.contains("palisade_tls_reloads_total{result=\"ok\"} 1"),
        "{metrics}"
    );
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(text.contains("reloaded the TLS certificate"));
    assert_eq!(
        text.matches("keeping the previous one").count(),
        3,
        "{text}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn start_fails_cleanly_on_bad_certificates_and_busy_ports() {
    let (state, _) = state(RULES, "");
    let missing = ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        TlsSource::Files(CertFiles {
            cert: "/nonexistent/tls.crt".into(),
            key: "/nonexistent/tls.key".into(),
        }),
    );
    let err = start(missing, state.clone()).await.err().unwrap();
    assert!(
        err.to_string()
            .starts_with("cannot read /nonexistent/tls.crt"),
        "{err}"
    );

    let server = serve(RULES, "").await;
    let cert = certificate();
    let busy = ServerConfig::new(
        server.addr,
        TlsSource::Pem {
            cert: cert.cert_pem,
            key: cert.key_pem,
        },
    );
    let err = start(busy, state).await.err().unwrap();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot listen on {}", server.addr)),
        "{err}"
    );
    server.running.shutdown().await.unwrap();
}
