//! The work one request can make the webhook do is bounded by what matters (values,
//! containers, findings), not only by bytes: an object at the body limit is answered quickly
//! and briefly, and requests beyond the concurrency limit wait, then get 503.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

/// A Pod with `n` privileged containers with short names, about 80 bytes each.
fn crowded_pod(n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "a:1", "securityContext": {"privileged": true}}))
        .collect();
    pod("crowded", containers)
}

#[tokio::test]
async fn an_object_at_the_body_limit_is_denied_quickly_and_briefly() {
    let server = serve(RULES, "").await;
    // About 6 MB: tens of thousands of containers, under the 6 MiB body limit.
    let object = crowded_pod(72_000);
    let body = review("huge", object, None).to_string();
    assert!(body.len() > 5_000_000 && body.len() < 6 * 1024 * 1024);
    for path in ["/validate", "/mutate"] {
        let (status, answer) = server.post_raw(path, body.clone().into_bytes()).await;
        assert_eq!(status, 200);
        let response = &answer["response"];
        assert_eq!(response["allowed"], false, "{path}");
        assert_eq!(response["status"]["code"], 413);
        let message = response["status"]["message"].as_str().unwrap();
        assert!(
            message.contains("at most 100000 JSON values; this one has 360008"),
            "{message}"
        );
        assert!(answer.to_string().len() < 1_000, "{path}: {answer}");
    }
    let lines = server.log_lines();
    let line = lines.iter().find(|l| l["uid"] == "huge").unwrap();
    assert_eq!(line["allowed"], false);
    assert!(serde_json::to_string(line).unwrap().len() < 2_000);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn pods_with_too_many_containers_are_denied_before_any_rule_runs() {
    let server = serve(RULES, "").await;
    let response = server
        .validate(&review("containers", crowded_pod(300), None))
        .await;
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 413);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("at most 256 containers; this one has 300"),
        "{message}"
    );
    assert!(!message.contains("POD001"));
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn objects_with_too_many_values_are_denied_before_any_rule_runs() {
    let server = serve_with(RULES, "", |_| {}).await;
    let mut object = pod("labels", vec![good_container("c")]);
    let labels: serde_json::Map<String, Value> = (0..120_000)
        .map(|i| (format!("k{i}"), Value::from("v")))
        .collect();
    object["metadata"]["annotations"] = Value::Object(labels);
    let response = server.validate(&review("values", object, None)).await;
    assert_eq!(response["allowed"], false);
    assert_eq!(response["status"]["code"], 413);
    assert!(response["status"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 100000 JSON values"));
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn denials_warnings_and_log_lines_list_a_bounded_number_of_findings() {
    let server = serve(
        RULES,
        "webhook:\n  mode: warn\n  rules: { POD001: enforce }\n",
    )
    .await;
    // 200 containers, each with an enforced finding (POD001) and warned ones.
    let response = server
        .validate(&review("many", crowded_pod(200), None))
        .await;
    assert_eq!(response["allowed"], false);
    let message = response["status"]["message"].as_str().unwrap();
    assert!(message.contains(": 200 findings\n"), "{message}");
    assert_eq!(message.lines().filter(|l| l.contains("POD001")).count(), 50);
    assert!(message.ends_with("- and 150 more (run `palisade scan` on the object to see them all)"));
    let warnings = warnings(&response);
    assert_eq!(warnings.len(), 51, "{warnings:?}");
    assert!(
        warnings[50].starts_with("palisade: ")
            && warnings[50].ends_with(" more warnings not listed")
    );
    let lines = server.log_lines();
    let line = lines.iter().find(|l| l["uid"] == "many").unwrap();
    assert_eq!(line["findings"].as_array().unwrap().len(), 50);
    assert!(line["findings_total"].as_u64().unwrap() > 200);
    server.running.shutdown().await.unwrap();
}

#[tokio::test]
async fn requests_beyond_the_concurrency_limit_wait_then_get_503() {
    let server = serve_with(RULES, "", |config| {
        config.max_in_flight = 1;
        config.queue_timeout = Duration::from_millis(200);
        config.body_timeout = Duration::from_millis(1_000);
    })
    .await;
    // One request holds the only place: its headers promise a body that never comes.
    let mut stalled = raw_tls(server.addr, &server.cert.ca_pem).await;
    stalled
        .write_all(
            b"POST /validate HTTP/1.1\r\nhost: palisade.test\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    stalled.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = server
        .post(
            "/validate",
            &review("second", pod("p", vec![good_container("c")]), None),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["reason"], "busy");
    // Health checks are not admission requests: they are answered meanwhile.
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // Once the stalled body times out, the place is free again.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let response = server
        .validate(&review("third", pod("p", vec![good_container("c")]), None))
        .await;
    assert_eq!(response["allowed"], true);
    server.running.shutdown().await.unwrap();
}
