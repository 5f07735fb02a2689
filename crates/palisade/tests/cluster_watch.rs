//! `palisade cluster watch` against the test API server: PolicyReports that follow changes,
//! a new list after `410 Gone`, metrics and probes, and one writer among two replicas.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use palisade_testserver::TestServer;
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-testserver/fixtures")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `palisade cluster watch` process, killed when dropped.
struct Watcher {
    child: Child,
    port: u16,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(server: &TestServer, dir: &Path, identity: &str) -> Watcher {
    let kubeconfig = dir.join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let port = free_port();
    let child = Command::new(cargo_bin("palisade"))
        .args(["cluster", "watch", "--no-config", "--kubeconfig"])
        .arg(&kubeconfig)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--identity", identity, "--lease-namespace", "palisade"])
        .args([
            "--lease-duration",
            "2",
            "--watch-timeout",
            "1",
            "--settle",
            "50",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Watcher { child, port }
}

/// A plain HTTP GET: status and body.
fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn report(server: &TestServer, namespace: &str) -> Option<Value> {
    server.objects().into_iter().find(|o| {
        o["kind"] == "PolicyReport"
            && o["metadata"]["namespace"] == namespace
            && o["metadata"]["name"] == "palisade"
    })
}

/// The (policy, object name, pointer) of each result of a report.
fn results(report: &Value) -> Vec<(String, String, String)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["policy"].as_str().unwrap().to_owned(),
                r["resources"][0]["name"].as_str().unwrap().to_owned(),
                r["properties"]["pointer"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn lease_holder(server: &TestServer) -> Option<String> {
    server
        .objects()
        .into_iter()
        .find(|o| o["kind"] == "Lease" && o["metadata"]["name"] == "palisade-watch")
        .and_then(|l| l["spec"]["holderIdentity"].as_str().map(str::to_owned))
}

fn lease_transitions(server: &TestServer) -> i64 {
    server
        .objects()
        .into_iter()
        .find(|o| o["kind"] == "Lease")
        .and_then(|l| l["spec"]["leaseTransitions"].as_i64())
        .unwrap()
}

fn server() -> TestServer {
    TestServer::builder()
        .fixture(&fixtures().join("ingress-nginx.yaml"))
        .unwrap()
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .controllers(1)
        .bookmark_interval(Duration::from_millis(200))
        .start()
}

fn privileged_pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"containers": [{
            "name": "main", "image": "busybox:1.36",
            "securityContext": {"privileged": true},
        }]},
    })
}

#[test]
fn reports_follow_changes_relist_after_410_and_metrics_count_findings() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let watcher = start(&server, dir.path(), "replica-a");
    wait_for("/healthz", || {
        http_get(watcher.port, "/healthz").filter(|(code, _)| *code == 200)
    });
    wait_for("/readyz", || {
        http_get(watcher.port, "/readyz").filter(|(code, _)| *code == 200)
    });
    let shop = wait_for("the shop PolicyReport", || report(&server, "shop"));
    assert_eq!(shop["apiVersion"], "wgpolicyk8s.io/v1alpha2");
    let found = results(&shop);
    assert!(
        found
            .iter()
            .any(|(_, name, pointer)| name == "debug" && pointer == "/spec/hostNetwork"),
        "{found:#?}"
    );
    assert_eq!(shop["summary"]["fail"], found.len());
    let cluster = wait_for("the ClusterPolicyReport", || {
        server
            .objects()
            .into_iter()
            .find(|o| o["kind"] == "ClusterPolicyReport")
    });
    assert!(cluster["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["resources"][0]["namespace"].is_null()));
    // No secret value in any report.
    assert!(!server.objects().iter().any(|o| o["kind"]
        .as_str()
        .unwrap()
        .ends_with("PolicyReport")
        && o.to_string().contains("Sup3r-S3cret")));

    // A new privileged pod, then the debug pod deleted: the report follows.
    assert!(server.apply(privileged_pod("intruder")));
    wait_for("the new pod in the report", || {
        report(&server, "shop").filter(|r| {
            results(r).iter().any(|(_, name, pointer)| {
                name == "intruder" && pointer.ends_with("/securityContext/privileged")
            })
        })
    });
    assert!(server.delete("pods", Some("shop"), "debug"));
    wait_for("the deleted pod gone from the report", || {
        report(&server, "shop").filter(|r| !results(r).iter().any(|(_, name, _)| name == "debug"))
    });

    // The watches end and cannot start again while a change happens and the history is
    // compacted: the next watch gets 410 Gone, and the new list brings the change.
    let lists_before = pod_lists(&server);
    server.faults().failing.push(("pods".to_owned(), 1_000));
    server.compact();
    assert!(server.apply(privileged_pod("after-compaction")));
    server.compact();
    server.faults().failing.clear();
    wait_for("the change seen through a new list", || {
        report(&server, "shop").filter(|r| {
            results(r)
                .iter()
                .any(|(_, name, _)| name == "after-compaction")
        })
    });
    assert!(
        pod_lists(&server) > lists_before,
        "a new list after 410 Gone"
    );

    // The series of the shop namespace add up to its report's results.
    let shop = report(&server, "shop").unwrap();
    let (code, metrics) = http_get(watcher.port, "/metrics").unwrap();
    assert_eq!(code, 200);
    let in_shop: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("palisade_findings{") && l.contains("namespace=\"shop\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        in_shop,
        shop["summary"]["fail"].as_u64().unwrap(),
        "{metrics}"
    );
    assert!(metrics.contains("rule=\"POD"), "{metrics}");
    assert!(metrics.contains("palisade_leader 1"), "{metrics}");
}

/// The lists (not watches) of pods the server answered.
fn pod_lists(server: &TestServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| {
            r.path == "/api/v1/pods"
                && r.method == "GET"
                && !r.query.as_deref().unwrap_or("").contains("watch=true")
        })
        .count()
}

#[test]
fn one_of_two_replicas_writes_and_the_other_takes_over() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let a = start(&server, dir.path(), "replica-a");
    let b = start(&server, dir.path(), "replica-b");
    wait_for("a report", || report(&server, "shop"));
    let holder = wait_for("a holder", || lease_holder(&server));
    let (leader, follower, follower_name) = if holder == "replica-a" {
        (a, b, "replica-b")
    } else {
        (b, a, "replica-a")
    };
    // Only the leader says it leads.
    wait_for("the follower ready", || {
        http_get(follower.port, "/readyz").filter(|(code, _)| *code == 200)
    });
    let (_, metrics) = http_get(follower.port, "/metrics").unwrap();
    assert!(metrics.contains("palisade_leader 0"), "{metrics}");
    let (_, metrics) = http_get(leader.port, "/metrics").unwrap();
    assert!(metrics.contains("palisade_leader 1"), "{metrics}");
    // Renewals do not move the Lease while its holder runs.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(lease_transitions(&server), 0);
    drop(leader);
    wait_for("the follower to take the Lease", || {
        lease_holder(&server).filter(|h| h == follower_name)
    });
    assert_eq!(lease_transitions(&server), 1);
    assert!(server.apply(privileged_pod("seen-by-the-new-leader")));
    wait_for("the new leader's report", || {
        report(&server, "shop").filter(|r| {
            results(r)
                .iter()
                .any(|(_, name, _)| name == "seen-by-the-new-leader")
        })
    });
    drop(follower);
}
