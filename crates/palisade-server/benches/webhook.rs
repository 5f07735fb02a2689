//! Load generator for the webhook: a typical Deployment review against the real HTTPS server on
//! a loopback port, at 1, 16 and 64 concurrent connections (HTTP/1.1, one connection per
//! worker, as the API server's client pool does), plus the in-process review alone, with the
//! built-in rules only and with `examples/policies` loaded (`--policy`) as well, for the
//! Deployment and for a Pod of the same pod spec (which the example policies select).
//!
//! Closed loop: every connection sends its next request as soon as the previous one is answered,
//! which measures saturation throughput (latency is then connections / throughput). Open loop:
//! the connections together send a fixed number of requests per second, each at its scheduled
//! time, as the API server does when objects arrive; a request sent late because the previous
//! one on its connection was still running counts from its scheduled time, so queueing shows in
//! the latency.
//!
//! `cargo bench -p palisade-server --bench webhook`; `PALISADE_BENCH_SECS` sets the measuring
//! time per level (default 5). The client runs in the same process and shares the CPUs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use palisade_rules::Config;
use palisade_server::{
    review, self_signed, start, Endpoint, FailurePolicy, LogSink, ServerConfig, State, TlsSource,
    WebhookConfig,
};
use serde_json::{json, Value};

/// The allocator of the `palisade` binary, which serves the webhook.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const HOST: &str = "palisade.bench";

/// A typical Deployment as the API server sends it: hardened, with defaults filled in.
fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "uid": "5b3c3f4e-8a1d-4a53-9f0e-1f6b7d0e4c21",
            "generation": 1,
            "labels": {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop"},
            "annotations": {"deployment.kubernetes.io/revision": "1"}
        },
        "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "checkout"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "checkout", "app.kubernetes.io/part-of": "shop"}},
                "spec": {
                    "serviceAccountName": "checkout",
                    "automountServiceAccountToken": false,
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"}
                    },
                    "containers": [{
                        "name": "checkout",
                        "image": "registry.example.com/shop/checkout:2.7.1@sha256:0f3b6c2b1d0e9a8f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6d5c4b3a2918f7e6",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                        "env": [
                            {"name": "LOG_LEVEL", "value": "info"},
                            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "checkout-db", "key": "password"}}}
                        ],
                        "resources": {
                            "requests": {"cpu": "250m", "memory": "256Mi"},
                            "limits": {"cpu": "1", "memory": "512Mi"}
                        },
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}, "periodSeconds": 5},
                        "livenessProbe": {"httpGet": {"path": "/live", "port": "http"}, "periodSeconds": 10},
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "capabilities": {"drop": ["ALL"]}
                        },
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File"
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst",
                    "schedulerName": "default-scheduler"
                }
            }
        }
    })
}

/// A Pod of the Deployment's pod spec, as the ReplicaSet controller creates it.
fn pod() -> Value {
    let deployment = deployment();
    let template = &deployment["spec"]["template"];
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "checkout-7d9f8b6c5-x2x9q",
            "namespace": "shop",
            "labels": template["metadata"]["labels"],
        },
        "spec": template["spec"],
    })
}

fn pod_body() -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&review_body(1)).unwrap();
    let request = &mut body["request"];
    request["kind"] = json!({"group": "", "version": "v1", "kind": "Pod"});
    request["resource"] = json!({"group": "", "version": "v1", "resource": "pods"});
    request["requestKind"] = request["kind"].clone();
    request["requestResource"] = request["resource"].clone();
    request["name"] = json!("checkout-7d9f8b6c5-x2x9q");
    request["object"] = pod();
    body.to_string().into_bytes()
}

fn review_body(uid: u64) -> Vec<u8> {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("bench-{uid}"),
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "requestKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "requestResource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "checkout",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:ci:deployer", "groups": ["system:serviceaccounts"]},
            "object": deployment(),
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions", "fieldManager": "kubectl"}
        }
    })
    .to_string()
    .into_bytes()
}

fn state() -> Arc<State> {
    let state = State::new(
        Config::default(),
        Vec::new(),
        Vec::new(),
        WebhookConfig::default(),
        LogSink::discard(),
    )
    .expect("the default configuration");
    Arc::new(state)
}

struct Level {
    connections: usize,
    /// Requests per second offered (open loop), or `None` (closed loop).
    rate: Option<f64>,
    requests: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn level(
    url: &str,
    ca: &str,
    addr: std::net::SocketAddr,
    connections: usize,
    rate: Option<f64>,
    secs: f64,
) -> Level {
    let body = Arc::new(review_body(1));
    let mut workers = Vec::new();
    let warmup = Duration::from_millis(500);
    let measure = Duration::from_secs_f64(secs);
    let begin = Instant::now() + warmup;
    let end = begin + measure;
    let start = Instant::now();
    // Open loop: each connection sends every `interval`, the connections evenly staggered.
    let interval = rate.map(|r| Duration::from_secs_f64(connections as f64 / r));
    for worker in 0..connections {
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
            .resolve(HOST, addr)
            .http1_only()
            .pool_max_idle_per_host(1)
            .no_proxy()
            .build()
            .unwrap();
        let url = url.to_owned();
        let body = body.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut next = interval.map(|i| start + i.mul_f64(worker as f64 / connections as f64));
            loop {
                let sent = match (next, interval) {
                    (Some(scheduled), Some(interval)) => {
                        next = Some(scheduled + interval);
                        let now = Instant::now();
                        if now < scheduled {
                            tokio::time::sleep_until(scheduled.into()).await;
                            // Timer slack is the client's, not the server's: count from waking.
                            Instant::now()
                        } else {
                            scheduled
                        }
                    }
                    _ => Instant::now(),
                };
                if sent >= end {
                    break;
                }
                let response = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await
                    .expect("request");
                assert_eq!(response.status().as_u16(), 200);
                let bytes = response.bytes().await.expect("body");
                assert!(bytes.windows(14).any(|w| w == b"\"allowed\":true"));
                if sent >= begin {
                    latencies.push(sent.elapsed());
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort();
    Level {
        connections,
        rate,
        requests: all.len(),
        seconds: secs,
        p50: percentile(&all, 50.0),
        p99: percentile(&all, 99.0),
        max: all.last().copied().unwrap_or_default(),
    }
}

/// `examples/policies` (two Gatekeeper constraints and a ValidatingAdmissionPolicy binding, all
/// on Pods) loaded as `--policy` loads them.
fn policy_state() -> Arc<State> {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/policies");
    let state = State::new(
        Config::default(),
        Vec::new(),
        Vec::new(),
        WebhookConfig::default(),
        LogSink::discard(),
    )
    .expect("the default configuration")
    .with_policies(vec![examples], FailurePolicy::Fail)
    .expect("the example policies");
    Arc::new(state)
}

fn in_process(state: &State, body: &[u8], secs: f64) -> (usize, Duration, Duration) {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let mut latencies = Vec::new();
    while Instant::now() < deadline {
        let t = Instant::now();
        let reply = review(state, Endpoint::Validate, body);
        latencies.push(t.elapsed());
        assert_eq!(reply.status, 200);
    }
    latencies.sort();
    (
        latencies.len(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo test --benches` runs bench targets with no arguments but `--bench` missing: skip.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let secs: f64 = std::env::var("PALISADE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let state = state();
    let rules = state.engine().rules().len();
    println!(
        "rules: {rules}; review body: {} bytes",
        review_body(1).len()
    );
    let policies = policy_state();
    for (name, state, body) in [
        ("Deployment, rules", &state, review_body(1)),
        (
            "Deployment, rules and examples/policies",
            &policies,
            review_body(1),
        ),
        ("Pod, rules", &state, pod_body()),
        ("Pod, rules and examples/policies", &policies, pod_body()),
    ] {
        let (count, p50, p99) = in_process(state, &body, secs.min(3.0));
        println!(
            "in-process review(), {name}: {count} reviews in {:.1} s, p50 {} ms, p99 {} ms, {:.0} reviews/s on one thread",
            secs.min(3.0),
            ms(p50),
            ms(p99),
            count as f64 / secs.min(3.0)
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let cert = self_signed(&[HOST.to_owned()]).unwrap();
        let config = ServerConfig::new(
            "127.0.0.1:0".parse().unwrap(),
            TlsSource::Pem {
                cert: cert.cert_pem.clone(),
                key: cert.key_pem.clone(),
            },
        );
        let running = start(config, state.clone()).await.unwrap();
        let addr = running.local_addr();
        let url = format!("https://{HOST}:{}/validate", addr.port());
        println!("| connections | load | requests | requests/s | p50 ms | p99 ms | max ms |");
        println!("|---:|---|---:|---:|---:|---:|---:|");
        let levels = [
            (1, None),
            (16, None),
            (64, None),
            (64, Some(2_500.0)),
            (64, Some(5_000.0)),
        ];
        for (connections, rate) in levels {
            let l = level(&url, &cert.ca_pem, addr, connections, rate, secs).await;
            let load = match l.rate {
                Some(rate) => format!("open loop, {rate:.0}/s offered"),
                None => "closed loop".to_owned(),
            };
            println!(
                "| {} | {load} | {} | {:.0} | {} | {} | {} |",
                l.connections,
                l.requests,
                l.requests as f64 / l.seconds,
                ms(l.p50),
                ms(l.p99),
                ms(l.max)
            );
        }
        running.shutdown().await.unwrap();
    });
}
