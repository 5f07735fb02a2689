//! `palisade cluster watch` latency: the time from a change in the cluster to the PolicyReport
//! that reports it, at 100 changes per second, against the test API server (HTTPS on loopback,
//! the real kube-rs client). Each change creates a privileged Pod `bench-N` in namespace `bench`
//! (and deletes `bench-(N-300)`, so the namespace keeps 300 pods); its latency ends when a
//! PolicyReport of `bench` holding its POD001 result is stored on the server.
//!
//!   cargo bench -p palisade --bench watch_latency [-- NAMESPACES SECONDS]
//!
//! Defaults: 100 namespaces of 100 objects (10,000 objects) and 10 seconds (1,000 changes);
//! `-- 1000 10` is the cluster of 100,000 objects.
//! `cargo bench -- --test` runs it once, small (2 namespaces, 1 second), and checks that every
//! change is reported.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use palisade_testserver::{Builder, TestServer};
use serde_json::{json, Value};

const RATE: u32 = 100;
/// Pods kept in the bench namespace (3 seconds of changes): each change beyond creates one and
/// deletes the oldest, so a pod is reported before it is gone unless the latency passes 3 s.
const KEPT: usize = 300;

/// 100 objects: the Namespace (Pod Security labels), 10 Deployments, Services and service
/// accounts, 10 Roles and RoleBindings, 5 NetworkPolicies, 44 ConfigMaps.
fn namespace(ns: &str, mut builder: Builder) -> Builder {
    builder = builder.object(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "baseline"}},
    }));
    for i in 0..10 {
        let app = format!("app-{i}");
        builder = builder
            .object(json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}}, "template": {
                    "metadata": {"labels": {"app": app}},
                    "spec": {"serviceAccountName": app, "containers": [{
                        "name": "app", "image": format!("registry.example.com/{app}:1.{i}"),
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true},
                    }]},
                }},
            }))
            .object(json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": app, "namespace": ns},
                "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": "http"}]},
            }))
            .object(json!({
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": app, "namespace": ns},
            }))
            .object(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": app, "namespace": ns},
                "rules": [{"apiGroups": [""], "resources": ["configmaps", "pods"], "verbs": ["get", "list", if i == 0 { "create" } else { "watch" }]}],
            }))
            .object(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": app, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": app},
                "subjects": [{"kind": "ServiceAccount", "name": app, "namespace": ns}],
            }));
    }
    for i in 0..5 {
        builder = builder.object(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": format!("np-{i}"), "namespace": ns},
            "spec": {"podSelector": {"matchLabels": {"app": format!("app-{i}")}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": format!("app-{}", i + 5)}}}], "ports": [{"port": "http"}]}]},
        }));
    }
    for i in 0..44 {
        builder = builder.object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("config-{i}"), "namespace": ns},
            "data": {"LOG_LEVEL": "info", "FEATURE": format!("f{i}")},
        }));
    }
    builder
}

fn pod(n: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("bench-{n}"), "namespace": "bench", "labels": {"app": "bench"}},
        "spec": {"containers": [{"name": "c", "image": "registry.example.com/bench:1",
            "securityContext": {"privileged": true}}]},
    })
}

struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let test = args.iter().any(|a| a == "--test");
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let (namespaces, seconds) = if test {
        (2, 1)
    } else {
        (
            numbers.first().copied().unwrap_or(100),
            numbers.get(1).copied().unwrap_or(10),
        )
    };
    let changes = RATE as usize * seconds;

    let mut builder = TestServer::builder().bookmark_interval(Duration::from_secs(1));
    for n in 0..namespaces {
        builder = namespace(&format!("ns-{n}"), builder);
    }
    builder = builder.object(json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"},
    }));
    let server = builder.start();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let kubeconfig = dir.path().join("kubeconfig");
    server
        .write_kubeconfig(&kubeconfig)
        .expect("the kubeconfig is written");
    let mut events = server.subscribe();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let _watcher = Watcher(
        Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(["cluster", "watch", "--no-config", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--identity", "bench", "--lease-namespace", "palisade"])
            .args(["--lease-duration", "3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("palisade starts"),
    );
    // Ready: the first reports are written, the cluster's and every namespace's (changes
    // made while the watcher still writes them wait behind those writes: that is start-up,
    // not watching).
    let started = Instant::now();
    let mut cluster_report = false;
    let mut reported: HashSet<String> = HashSet::new();
    while !cluster_report || reported.len() < namespaces {
        match events.try_recv() {
            Ok(event) => match event.object["kind"].as_str() {
                Some("ClusterPolicyReport") => cluster_report = true,
                Some("PolicyReport") => {
                    if let Some(ns) = event.object["metadata"]["namespace"].as_str() {
                        if ns.starts_with("ns-") {
                            reported.insert(ns.to_owned());
                        }
                    }
                }
                _ => {}
            },
            Err(tokio::sync::broadcast::error::TryRecvError::Empty) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => panic!("the server's events: {err}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no report within 10 minutes"
        );
    }
    let initial = started.elapsed();

    let applied: Arc<Mutex<HashMap<usize, Instant>>> = Arc::default();
    let observer = {
        let applied = applied.clone();
        std::thread::spawn(move || {
            let mut latencies: HashMap<usize, Duration> = HashMap::new();
            let mut writes = 0usize;
            let deadline = Instant::now() + Duration::from_secs(seconds as u64 + 30);
            while latencies.len() < changes && Instant::now() < deadline {
                let event = match events.try_recv() {
                    Ok(event) => event,
                    Err(tokio::sync::broadcast::error::TryRecvError::Empty) => {
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
                    Err(err) => panic!("the server's events: {err}"),
                };
                let seen = Instant::now();
                let report = &event.object;
                if report["kind"] != "PolicyReport" || report["metadata"]["namespace"] != "bench" {
                    continue;
                }
                writes += 1;
                let applied = applied.lock().unwrap_or_else(|p| p.into_inner());
                for result in report["results"].as_array().into_iter().flatten() {
                    if result["policy"] != "POD001" {
                        continue;
                    }
                    let name = result["resources"][0]["name"].as_str().unwrap_or("");
                    let Some(n) = name
                        .strip_prefix("bench-")
                        .and_then(|n| n.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    if let Some(at) = applied.get(&n) {
                        latencies.entry(n).or_insert_with(|| seen - *at);
                    }
                }
            }
            (latencies, writes)
        })
    };

    let start = Instant::now();
    for n in 0..changes {
        let due = start + Duration::from_secs(1) * n as u32 / RATE;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        applied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(n, Instant::now());
        server.apply(pod(n));
        if n >= KEPT {
            server.delete("pods", Some("bench"), &format!("bench-{}", n - KEPT));
        }
    }
    let driven = start.elapsed();
    let (latencies, writes) = observer.join().expect("the observer ends");
    let mut sorted: Vec<Duration> = latencies.values().copied().collect();
    sorted.sort();
    let objects = namespaces * 100 + 1;
    println!(
        "watch latency: {objects} objects, {changes} changes in {:.2} s ({:.0}/s), first reports after {:.2} s",
        driven.as_secs_f64(),
        changes as f64 / driven.as_secs_f64(),
        initial.as_secs_f64()
    );
    println!(
        "  reported {} of {changes}; {writes} writes of the bench PolicyReport; p50 {} ms, p99 {} ms, max {} ms",
        sorted.len(),
        percentile(&sorted, 0.5).as_millis(),
        percentile(&sorted, 0.99).as_millis(),
        sorted.last().copied().unwrap_or_default().as_millis()
    );
    assert_eq!(sorted.len(), changes, "every change is reported");
}
