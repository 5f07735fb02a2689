//! The real kube-rs client against the test server: paging, resource versions, watches with
//! bookmarks and `410 Gone`, and the injected faults.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{ListParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};
use palisade_testserver::{Auth, TestServer, Throttle};
use serde_json::json;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
}

fn server() -> TestServer {
    TestServer::builder()
        .fixture(&fixtures().join("ingress-nginx.yaml"))
        .unwrap()
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .controllers(2)
        .bookmark_interval(Duration::from_millis(100))
        .start()
}

async fn client(server: &TestServer) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

fn api_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

#[tokio::test]
async fn lists_come_in_pages_at_one_resource_version() {
    let server = server();
    let pods: Api<Pod> = Api::all(client(&server).await);
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut versions = Vec::new();
    let mut pages = 0;
    loop {
        let mut params = ListParams::default().limit(2);
        if let Some(token) = &token {
            params = params.continue_token(token);
        }
        let page = pods.list(&params).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= 2);
        versions.push(page.metadata.resource_version.clone().unwrap());
        names.extend(page.items.iter().map(|p| p.metadata.name.clone().unwrap()));
        token = page.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
    }
    assert_eq!(names.len(), 7, "{names:?}");
    assert_eq!(pages, 4);
    assert!(versions.windows(2).all(|w| w[0] == w[1]), "{versions:?}");
    // A continue token from before a compaction is too old.
    let first = pods.list(&ListParams::default().limit(2)).await.unwrap();
    let mut changed = server
        .objects()
        .into_iter()
        .find(|o| o["metadata"]["name"] == "debug")
        .unwrap();
    changed["metadata"]["labels"]["changed"] = json!("yes");
    assert!(server.apply(changed));
    server.compact();
    let token = first.metadata.continue_.unwrap();
    let err = pods
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(410), "{err}");
}

#[tokio::test]
async fn namespaced_lists_and_gets_see_one_namespace() {
    let server = server();
    let client = client(&server).await;
    let shop: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let list = shop.list(&ListParams::default()).await.unwrap();
    let names: Vec<_> = list
        .items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["debug"]);
    let pod = shop.get("debug").await.unwrap();
    assert_eq!(pod.spec.unwrap().host_network, Some(true));
    assert!(pod.metadata.uid.is_some());
    let err = shop.get("nope").await.unwrap_err();
    assert_eq!(api_code(&err), Some(404));
}

#[tokio::test]
async fn watches_deliver_changes_and_bookmarks_and_410_after_compaction() {
    let server = server();
    let pods: Api<Pod> = Api::namespaced(client(&server).await, "shop");
    let list = pods.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    let mut stream = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    let mut changed = server
        .objects()
        .into_iter()
        .find(|o| o["metadata"]["name"] == "debug")
        .unwrap();
    changed["metadata"]["labels"]["changed"] = json!("yes");
    assert!(server.apply(changed));
    let mut saw_modified = false;
    let mut saw_bookmark = false;
    while !(saw_modified && saw_bookmark) {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .expect("the stream stays open");
        match event {
            WatchEvent::Modified(pod) => {
                assert_eq!(pod.metadata.labels.unwrap()["changed"], "yes");
                saw_modified = true;
            }
            WatchEvent::Bookmark(b) => {
                assert!(b.metadata.resource_version.parse::<u64>().unwrap() > 0);
                saw_bookmark = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(server.delete("pods", Some("shop"), "debug"));
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match event {
            WatchEvent::Deleted(pod) => {
                assert_eq!(pod.metadata.name.as_deref(), Some("debug"));
                break;
            }
            WatchEvent::Bookmark(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
    server.compact();
    let mut stream = pods
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    match stream.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(status) => assert_eq!(status.code, 410),
        other => panic!("expected 410 Gone, got {other:?}"),
    }
}

#[tokio::test]
async fn faults_forbidden_throttled_failing_slow_and_reset() {
    let server = server();
    let client = client(&server).await;
    let secrets: Api<Secret> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client);

    server.faults().forbidden.push("secrets".to_owned());
    let err = secrets.list(&ListParams::default()).await.unwrap_err();
    assert_eq!(api_code(&err), Some(403), "{err}");
    assert!(pods.list(&ListParams::default()).await.is_ok());
    server.faults().forbidden.clear();

    // kube-rs retries a 429 after the Retry-After the server gave.
    server.faults().throttled.push(Throttle {
        resource: "pods".to_owned(),
        count: 1,
        retry_after_secs: 1,
    });
    let started = Instant::now();
    let list = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 7);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    let tries = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .count();
    assert_eq!(tries, 3, "one list, then one refused and its retry");

    server.faults().failing.push(("Pod".to_owned(), 1));
    let err = pods.list(&ListParams::default()).await.unwrap_err();
    assert_eq!(api_code(&err), Some(500), "{err}");

    server
        .faults()
        .slow
        .push(("*".to_owned(), Duration::from_millis(300)));
    let started = Instant::now();
    pods.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    server.faults().slow.clear();

    server.faults().reset.push(("pods".to_owned(), 1));
    let err = pods.list(&ListParams::default()).await.unwrap_err();
    assert_eq!(
        api_code(&err),
        None,
        "a broken connection, not a status: {err}"
    );
    assert!(pods.list(&ListParams::default()).await.is_ok());
}

#[tokio::test]
async fn client_certificates_authenticate() {
    let server = TestServer::builder()
        .auth(Auth::ClientCert)
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .start();
    let pods: Api<Pod> = Api::all(client(&server).await);
    assert_eq!(
        pods.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
}

#[tokio::test]
async fn discovery_serves_what_the_fixtures_hold_and_leaves_out_what_it_is_told() {
    let server = TestServer::builder()
        .fixture(&fixtures().join("ingress-nginx.yaml"))
        .unwrap()
        .without("ingressclasses.networking.k8s.io")
        .start();
    let client = client(&server).await;
    let discovery = kube::Discovery::new(client).run().await.unwrap();
    let kinds: Vec<String> = discovery
        .groups()
        .flat_map(|g| g.recommended_resources())
        .map(|(r, _)| r.kind)
        .collect();
    for kind in [
        "Pod",
        "Deployment",
        "ClusterRole",
        "NetworkPolicy",
        "ValidatingWebhookConfiguration",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing from {kinds:?}"
        );
    }
    assert!(!kinds.iter().any(|k| k == "IngressClass"), "{kinds:?}");
    assert!(server.objects().iter().all(|o| o["kind"] != "IngressClass"));
}

#[tokio::test]
async fn objects_are_created_replaced_with_optimistic_concurrency_and_deleted() {
    use k8s_openapi::api::coordination::v1::Lease;
    use kube::api::{DeleteParams, PostParams};
    let server = server();
    let leases: Api<Lease> = Api::namespaced(client(&server).await, "palisade");
    let lease: Lease = serde_json::from_value(json!({
        "metadata": {"name": "leader"},
        "spec": {"holderIdentity": "a"},
    }))
    .unwrap();
    let created = leases.create(&PostParams::default(), &lease).await.unwrap();
    let err = leases
        .create(&PostParams::default(), &lease)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(409));
    let mut changed = created.clone();
    changed.spec.as_mut().unwrap().holder_identity = Some("b".to_owned());
    let replaced = leases
        .replace("leader", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(replaced.metadata.uid, created.metadata.uid);
    // The version read before the replacement is stale now.
    let err = leases
        .replace("leader", &PostParams::default(), &changed)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), Some(409));
    leases
        .delete("leader", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(
        api_code(&leases.get("leader").await.unwrap_err()),
        Some(404)
    );
}
