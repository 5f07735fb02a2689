//! `palisade cluster watch` re-evaluates in part (per-object rules on the changed objects, the
//! namespace-local inventory rules on the changed namespaces, NET007, POD016 and POD017 on the
//! namespaces a change reaches, the others when a kind they read changed, and only the reports
//! that changed): after a random sequence of creates, updates and
//! deletes on the test API server, the PolicyReports it wrote must equal what a full
//! evaluation of the same objects (`palisade cluster scan`) finds, namespace by namespace and
//! in order.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use palisade_testserver::TestServer;
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-testserver/fixtures")
}

struct Watcher(Child);

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small deterministic random sequence (a linear congruential generator).
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// One finding or report result: rule, severity, message, object and field.
type Row = (String, String, String, String, String, String);

/// The results of every PolicyReport and the ClusterPolicyReport on the server, by namespace
/// (`""`: the cluster), in their order; reports without results are left out.
fn written(server: &TestServer) -> BTreeMap<String, Vec<Row>> {
    let mut reports = BTreeMap::new();
    for report in server.objects() {
        let kind = report["kind"].as_str().unwrap_or("");
        if kind != "PolicyReport" && kind != "ClusterPolicyReport" {
            continue;
        }
        let namespace = report["metadata"]["namespace"].as_str().unwrap_or("");
        let rows: Vec<Row> = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let o = &r["resources"][0];
                (
                    r["policy"].as_str().unwrap().to_owned(),
                    r["severity"].as_str().unwrap().to_owned(),
                    r["message"].as_str().unwrap().to_owned(),
                    format!("{} {}", o["apiVersion"], o["kind"]),
                    o["name"].as_str().unwrap().to_owned(),
                    r["properties"]["pointer"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        if !rows.is_empty() {
            reports.insert(namespace.to_owned(), rows);
        }
    }
    reports
}

/// The findings of `palisade cluster scan` (with the kubeconfig in `dir`) in the same shape.
fn scanned(dir: &Path) -> BTreeMap<String, Vec<Row>> {
    let kubeconfig = dir.join("kubeconfig");
    let output = Command::new(cargo_bin("palisade"))
        .args([
            "cluster",
            "scan",
            "--no-config",
            "-f",
            "json",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .current_dir(dir)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!("{err}: {}", String::from_utf8_lossy(&output.stderr));
    });
    let mut reports: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for f in report["findings"].as_array().unwrap() {
        let o = &f["object"];
        reports
            .entry(o["namespace"].as_str().unwrap_or("").to_owned())
            .or_default()
            .push((
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
                format!("{} {}", o["apiVersion"], o["kind"]),
                o["name"].as_str().unwrap().to_owned(),
                f["pointer"].as_str().unwrap().to_owned(),
            ));
    }
    reports
}

const NAMESPACES: &[&str] = &["shop", "r0", "r1", "r2"];

fn namespace(name: &str, level: usize) -> Value {
    let mut ns = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"team": name}}});
    if let Some(level) = ["restricted", "baseline", "privileged"].get(level) {
        ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!(level);
    }
    ns
}

/// One random change; returns what it did, for the failure message.
fn change(server: &TestServer, random: &mut Random) -> String {
    let ns = NAMESPACES[random.below(NAMESPACES.len())];
    let other = NAMESPACES[random.below(NAMESPACES.len())];
    let n = random.below(4);
    match random.below(12) {
        0..=2 => {
            let pod = json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("p{n}"), "namespace": ns,
                    "labels": {"app": (["a", "b"][random.below(2)])}},
                "spec": {
                    "serviceAccountName": (["default", "runner"][random.below(2)]),
                    "hostNetwork": random.below(3) == 0,
                    "containers": [{"name": "c", "image": "busybox:1.36",
                        "ports": [{"containerPort": 80, "name": (["http", "web"][random.below(2)])}],
                        "securityContext": {"privileged": random.below(2) == 0}}]}});
            assert!(server.apply(pod));
            format!("pod {ns}/p{n}")
        }
        3 => {
            server.delete("pods", Some(ns), &format!("p{n}"));
            format!("delete pod {ns}/p{n}")
        }
        4 => {
            // Egress to another namespace's named ports makes NET007 read every namespace
            // (`np0` and `np1`, the only ones deleted); to the policy's own pods, only its.
            let to = if n < 2 {
                json!([{"namespaceSelector": {"matchLabels": {"team": other}}}])
            } else {
                json!([{"podSelector": if random.below(2) == 0 { json!({}) } else { json!({"matchLabels": {"app": "b"}}) }}])
            };
            let policy = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": format!("np{n}"), "namespace": ns},
                "spec": {
                    "podSelector": if random.below(2) == 0 { json!({}) } else { json!({"matchLabels": {"app": "a"}}) },
                    "policyTypes": ([&["Ingress"][..], &["Egress"], &["Ingress", "Egress"]][random.below(3)]),
                    "ingress": [{"from": [{"podSelector": {}}]}],
                    "egress": [{"to": to,
                        "ports": [{"port": (["http", "web", "dns"][random.below(3)])}]}]}});
            assert!(server.apply(policy));
            format!("networkpolicy {ns}/np{n}")
        }
        5 => {
            let n = n % 2;
            server.delete("networkpolicies", Some(ns), &format!("np{n}"));
            format!("delete networkpolicy {ns}/np{n}")
        }
        6 | 9 => {
            let account = ["default", "runner"][random.below(2)];
            // The subjects that bind another namespace's service accounts.
            let subject = match random.below(5) {
                0 => json!({"kind": "ServiceAccount", "name": account}),
                1 => {
                    json!({"kind": "User", "name": format!("system:serviceaccount:{other}:{account}")})
                }
                2 => json!({"kind": "Group", "name": format!("system:serviceaccounts:{other}")}),
                3 if n == 0 && random.below(3) == 0 => {
                    json!({"kind": "Group", "name": "system:serviceaccounts"})
                }
                _ => json!({"kind": "ServiceAccount", "name": account, "namespace": other}),
            };
            let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": format!("rb{n}"), "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": (["edit", "view", "cluster-admin"][random.below(3)])},
                "subjects": [subject]});
            assert!(server.apply(binding));
            format!("rolebinding {ns}/rb{n} for {subject}")
        }
        7 => {
            let n = n % 2;
            server.delete("rolebindings", Some(ns), &format!("rb{n}"));
            format!("delete rolebinding {ns}/rb{n}")
        }
        10 => {
            let account = json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "runner", "namespace": ns},
                "automountServiceAccountToken": (random.below(2) == 0)});
            assert!(server.apply(account));
            format!("serviceaccount {ns}/runner")
        }
        11 => {
            server.delete("serviceaccounts", Some(ns), "runner");
            format!("delete serviceaccount {ns}/runner")
        }
        _ => {
            let level = random.below(4);
            assert!(server.apply(namespace(ns, level)));
            format!("namespace {ns} level {level}")
        }
    }
}

fn run(seed: u64) {
    let mut builder = TestServer::builder()
        .fixture(&fixtures().join("ingress-nginx.yaml"))
        .unwrap()
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .controllers(2);
    for (i, ns) in NAMESPACES.iter().enumerate().skip(1) {
        builder = builder.object(namespace(ns, i % 4));
    }
    let server = builder.start();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _watcher = Watcher(
        Command::new(cargo_bin("palisade"))
            .args(["cluster", "watch", "--no-config", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--identity", "a", "--lease-namespace", "palisade"])
            .args(["--settle", "30"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while written(&server).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no report written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut random = Random(seed);
    let mut done = Vec::new();
    // The reports are compared every 20 changes, so that a namespace left stale is seen
    // before a later change there re-evaluates it.
    for _ in 0..4 {
        for _ in 0..20 {
            done.push(change(&server, &mut random));
            // Some changes land in one evaluation, some in the next.
            std::thread::sleep(Duration::from_millis(random.below(60) as u64));
        }
        equal_a_full_evaluation(&server, dir.path(), seed, &done);
    }
}

/// Waits until the reports written equal what `cluster scan` finds now.
fn equal_a_full_evaluation(server: &TestServer, dir: &Path, seed: u64, done: &[String]) {
    let expected = scanned(dir);
    assert!(expected.len() > 2, "{expected:#?}");
    let started = Instant::now();
    loop {
        let found = written(server);
        if found == expected {
            return;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let mut differ = Vec::new();
            for ns in expected.keys().chain(found.keys()) {
                if expected.get(ns) != found.get(ns) {
                    differ.push(format!(
                        "{ns:?}:\n  full evaluation: {:#?}\n  written: {:#?}",
                        expected.get(ns),
                        found.get(ns)
                    ));
                }
            }
            panic!(
                "seed {seed}: the reports differ from a full evaluation after {done:#?}\n{}",
                differ.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn reports_after_random_changes_equal_a_full_evaluation() {
    for seed in [1, 2, 3, 4, 5] {
        run(seed);
    }
}
