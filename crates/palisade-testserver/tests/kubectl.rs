//! The real `kubectl` speaks to the test server: discovery, then lists of every namespace.

use std::path::Path;
use std::process::Command;

use palisade_testserver::{Auth, TestServer};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

/// `kubectl` with the server's kubeconfig and a cache of its own, or `None` (said loudly)
/// when it is not installed.
fn kubectl(server: &TestServer, dir: &Path, args: &[&str]) -> Option<std::process::Output> {
    let config = dir.join("kubeconfig");
    server.write_kubeconfig(&config).unwrap();
    let found = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output();
    if found.is_err() {
        eprintln!("SKIPPED: kubectl is not on PATH, so nothing was checked");
        return None;
    }
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&config)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(args)
        .env("HOME", dir)
        .output()
        .unwrap();
    Some(output)
}

fn server(auth: Auth) -> TestServer {
    TestServer::builder()
        .auth(auth)
        .fixture(&fixtures().join("ingress-nginx.yaml"))
        .unwrap()
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .controllers(2)
        .start()
}

#[test]
fn kubectl_lists_the_pods_of_every_namespace() {
    let server = server(Auth::Token("kubectl-token".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let Some(output) = kubectl(&server, dir.path(), &["get", "pods", "-A"]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kubectl failed: {stderr}");
    let pods: Vec<(String, String)> = server
        .objects()
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .map(|o| {
            let ns = o["metadata"]["namespace"].as_str().unwrap().to_owned();
            let name = o["metadata"]["name"].as_str().unwrap().to_owned();
            (ns, name)
        })
        .collect();
    // Two pods of the controller's ReplicaSet, two of each admission Job, and the debug pod.
    assert_eq!(pods.len(), 7, "{pods:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE"), "{stdout}");
    assert_eq!(lines.len(), pods.len() + 1, "{stdout}");
    for (ns, name) in &pods {
        assert!(
            lines.iter().any(|l| {
                let mut cols = l.split_whitespace();
                cols.next() == Some(ns.as_str()) && cols.next() == Some(name.as_str())
            }),
            "{ns}/{name} missing from:\n{stdout}"
        );
    }
}

#[test]
fn kubectl_authenticates_with_a_client_certificate_and_reads_cluster_kinds() {
    let server = server(Auth::ClientCert);
    let dir = tempfile::tempdir().unwrap();
    let Some(output) = kubectl(&server, dir.path(), &["get", "clusterroles", "-o", "name"]) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "clusterrole.rbac.authorization.k8s.io/ingress-nginx",
            "clusterrole.rbac.authorization.k8s.io/ingress-nginx-admission",
        ]
    );
}

#[test]
fn kubectl_is_refused_without_the_token() {
    let server = server(Auth::Token("the-right-token".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kubeconfig");
    server.write_kubeconfig(&config).unwrap();
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("the-right-token", "a-wrong-token");
    std::fs::write(&config, text).unwrap();
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: kubectl is not on PATH, so nothing was checked");
        return;
    }
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&config)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .args(["get", "pods", "-A"])
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("provide credentials"), "{stderr}");
}
