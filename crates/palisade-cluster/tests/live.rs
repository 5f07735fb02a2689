//! palisade-cluster against the test API server, through the real kube-rs client.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use palisade_cluster::{
    connect, discover, list, ConnectOptions, Connection, ListOptions, Listed, ResourceError,
};
use palisade_testserver::{Auth, TestServer};
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../palisade-testserver/fixtures")
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

async fn connection(server: &TestServer, dir: &Path) -> Connection {
    let path = dir.join("kubeconfig");
    server.write_kubeconfig(&path).unwrap();
    connect(&ConnectOptions {
        kubeconfig: Some(path),
        timeout: Some(Duration::from_secs(2)),
        ..ConnectOptions::default()
    })
    .await
    .unwrap()
}

fn kinds(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

async fn list_all(
    connection: &Connection,
    names: &[&str],
    options: ListOptions,
) -> (Vec<Value>, Vec<ResourceError>) {
    let types = discover(&connection.once, &kinds(names))
        .await
        .unwrap()
        .types;
    let (tx, mut rx) = mpsc::channel(16);
    let lister = {
        let connection = connection.clone();
        tokio::spawn(async move { list(&connection, types, &options, tx).await })
    };
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    while let Some(listed) = rx.recv().await {
        match listed {
            Listed::Object(object) => objects.push(object),
            Listed::Error(error) => errors.push(error),
        }
    }
    lister.await.unwrap();
    (objects, errors)
}

fn names(objects: &[Value], kind: &str) -> Vec<String> {
    let mut names: Vec<String> = objects
        .iter()
        .filter(|o| o["kind"] == kind)
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn lists_every_kind_asked_for_in_pages_with_kinds_set() {
    let server = server(Auth::Token("t0ken".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    let options = ListOptions {
        chunk_size: 2,
        concurrency: 3,
        ..ListOptions::default()
    };
    let (objects, errors) = list_all(
        &connection,
        &[
            "Pod",
            "Deployment",
            "ReplicaSet",
            "ClusterRole",
            "Namespace",
            "NoSuchKind",
        ],
        options,
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    let served = server.objects();
    for kind in [
        "Pod",
        "Deployment",
        "ReplicaSet",
        "ClusterRole",
        "Namespace",
    ] {
        assert_eq!(names(&objects, kind), names(&served, kind), "{kind}");
    }
    assert_eq!(names(&objects, "Pod").len(), 7);
    // Every object as the server stores it, `apiVersion` and `kind` first.
    for object in &objects {
        let stored = served
            .iter()
            .find(|s| s["metadata"]["uid"] == object["metadata"]["uid"])
            .unwrap();
        assert_eq!(object, stored);
        let keys: Vec<&String> = object.as_object().unwrap().keys().take(2).collect();
        assert_eq!(keys, ["apiVersion", "kind"]);
    }
    let pod_pages = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/pods")
        .count();
    assert_eq!(pod_pages, 4, "7 pods in pages of 2");
}

#[tokio::test]
async fn one_namespace_and_the_cluster_scoped_kinds() {
    let server = server(Auth::Token("t0ken".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    let options = ListOptions {
        namespace: Some("shop".to_owned()),
        ..ListOptions::default()
    };
    let (objects, errors) = list_all(&connection, &["Pod", "Namespace"], options).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(names(&objects, "Pod"), ["debug"]);
    assert_eq!(names(&objects, "Namespace"), ["ingress-nginx", "shop"]);
}

#[tokio::test]
async fn secrets_are_metadata_unless_asked_for() {
    let server = server(Auth::Token("t0ken".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    let (objects, _) = list_all(&connection, &["Secret"], ListOptions::default()).await;
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0]["kind"], "Secret");
    assert_eq!(objects[0]["metadata"]["name"], "db-credentials");
    assert!(objects[0].get("stringData").is_none() && objects[0].get("data").is_none());
    let text = serde_json::to_string(&objects).unwrap();
    assert!(!text.contains("Sup3r-S3cret"));
    let asked = server
        .requests()
        .into_iter()
        .find(|r| r.path == "/api/v1/secrets")
        .unwrap();
    assert!(asked
        .accept
        .unwrap()
        .starts_with("application/json;as=PartialObjectMetadataList"));

    let options = ListOptions {
        secret_data: true,
        ..ListOptions::default()
    };
    let (objects, _) = list_all(&connection, &["Secret"], options).await;
    assert_eq!(
        objects[0]["stringData"],
        json!({"DB_PASSWORD": "Sup3r-S3cret-Passw0rd-For-Tests"})
    );
}

#[tokio::test]
async fn failures_are_kept_per_resource_type_and_the_rest_is_listed() {
    let server = server(Auth::Token("t0ken".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    server.faults().forbidden.push("clusterroles".to_owned());
    server.faults().failing.push(("deployments".to_owned(), 1));
    server
        .faults()
        .slow
        .push(("namespaces".to_owned(), Duration::from_secs(4)));
    let (objects, errors) = list_all(
        &connection,
        &["Pod", "Deployment", "ClusterRole", "Namespace"],
        ListOptions::default(),
    )
    .await;
    assert_eq!(names(&objects, "Pod").len(), 7);
    let mut by_resource: Vec<(String, Option<u16>, String)> = errors
        .into_iter()
        .map(|e| (e.resource, e.code, e.message))
        .collect();
    by_resource.sort();
    assert_eq!(by_resource.len(), 3, "{by_resource:?}");
    assert_eq!(by_resource[0].0, "clusterroles.rbac.authorization.k8s.io");
    assert_eq!(by_resource[0].1, Some(403));
    assert_eq!(by_resource[1].0, "deployments.apps");
    assert_eq!(by_resource[1].1, Some(500));
    assert_eq!(by_resource[2].0, "namespaces");
    assert_eq!(by_resource[2].1, None);
    assert!(
        by_resource[2].2.contains("timed out"),
        "{}",
        by_resource[2].2
    );
}

#[tokio::test]
async fn a_reset_connection_in_a_page_is_an_error_entry() {
    let server = server(Auth::Token("t0ken".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    server.faults().reset.push(("pods".to_owned(), 1));
    let (objects, errors) =
        list_all(&connection, &["Pod", "Service"], ListOptions::default()).await;
    assert_eq!(names(&objects, "Service").len(), 2);
    assert!(names(&objects, "Pod").is_empty());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].resource, "pods");
}

#[tokio::test]
async fn client_certificates_contexts_and_exec_plugins_connect() {
    let server = server(Auth::ClientCert);
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    let (objects, errors) = list_all(&connection, &["Namespace"], ListOptions::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(objects.len(), 2);

    // An exec credential plugin gives the token; the context is not the current one.
    let server = server_with_token("from-the-plugin");
    let plugin = dir.path().join("credential-plugin.sh");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"from-the-plugin\"}}'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut config: Value = serde_json::from_str(&server.kubeconfig()).unwrap();
    config["users"][0]["user"] = json!({"exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": plugin.display().to_string(),
        "interactiveMode": "Never",
    }});
    config["contexts"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "elsewhere", "context": {"cluster": "nowhere", "user": "nobody"}}));
    config["current-context"] = json!("elsewhere");
    let path = dir.path().join("exec-kubeconfig");
    std::fs::write(&path, config.to_string()).unwrap();
    let connection = connect(&ConnectOptions {
        kubeconfig: Some(path),
        context: Some("palisade-test".to_owned()),
        timeout: Some(Duration::from_secs(5)),
    })
    .await
    .unwrap();
    let (objects, errors) = list_all(&connection, &["Namespace"], ListOptions::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(objects.len(), 2);
}

fn server_with_token(token: &str) -> TestServer {
    TestServer::builder()
        .auth(Auth::Token(token.to_owned()))
        .fixture(&fixtures().join("extras.yaml"))
        .unwrap()
        .object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}}))
        .start()
}

#[tokio::test]
async fn a_group_that_cannot_be_discovered_is_named_and_the_others_are_listed() {
    let server = server(Auth::Token("t0ken".to_owned()));
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    server.faults().unavailable_groups.push("apps".to_owned());
    let discovered = discover(
        &connection.once,
        &kinds(&["Pod", "Deployment", "ClusterRole"]),
    )
    .await
    .unwrap();
    assert_eq!(discovered.unavailable, ["apps/v1"]);
    let kinds: Vec<&str> = discovered.types.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(kinds, ["Pod", "ClusterRole"]);
    let names: Vec<String> = discovered.types.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["pods", "clusterroles.rbac.authorization.k8s.io"]);
}

#[tokio::test]
async fn reports_are_replaced_at_the_version_last_written_and_read_again_after_a_conflict() {
    let server = TestServer::builder().start();
    let dir = tempfile::tempdir().unwrap();
    let connection = connection(&server, dir.path()).await;
    let report = |message: &str| {
        json!({
            "apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
            "metadata": {"name": "palisade", "namespace": "shop"},
            "results": [{"message": message}],
        })
    };
    let mut publisher = palisade_cluster::Publisher::default();
    for (message, writes) in [("one", 1), ("two", 1), ("two", 0)] {
        let written = publisher.publish(&connection, vec![report(message)]).await;
        assert_eq!(written, Ok(writes), "{message}");
    }
    // Someone else changes it: the version last written is stale.
    assert!(server.apply(report("theirs")));
    assert_eq!(
        publisher.publish(&connection, vec![report("three")]).await,
        Ok(1)
    );
    let stored = server
        .objects()
        .into_iter()
        .find(|o| o["kind"] == "PolicyReport")
        .unwrap();
    assert_eq!(stored["results"][0]["message"], "three");
    let methods: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("policyreports"))
        .map(|r| r.method)
        .collect();
    // Created after a read; replaced at once; after the conflict, read and replaced.
    assert_eq!(methods, ["GET", "POST", "PUT", "PUT", "GET", "PUT"]);
}
