//! Serves a synthetic cluster for the `cluster scan` benchmark (docs/benchmarks.md, `## Cluster`):
//! 100 namespaces of 1,000 objects each by default (25 Deployments, each with a ReplicaSet and 4
//! Pods, 25 Services, Endpoints and ServiceAccounts, 50 Roles and RoleBindings, 10
//! NetworkPolicies, 200 Secrets, 464 ConfigMaps and the Namespace).
//!
//!   cargo run --release -p palisade-testserver --example bench-server -- KUBECONFIG [NAMESPACES]
//!
//! Writes the kubeconfig, prints `ready` and serves until standard input closes.

use std::io::Read as _;

use palisade_testserver::TestServer;
use serde_json::{json, Value};

fn pod_template(app: &str, i: usize) -> Value {
    json!({
        "metadata": {"labels": {"app": app, "tier": if i.is_multiple_of(2) { "web" } else { "api" }}},
        "spec": {
            "serviceAccountName": app,
            "securityContext": {"runAsNonRoot": !i.is_multiple_of(3), "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app",
                "image": format!("registry.example.com/team/{app}:1.{i}"),
                "ports": [{"containerPort": 8080, "name": "http"}],
                "env": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "DB_HOST", "value": "db.internal"},
                ],
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "securityContext": {"allowPrivilegeEscalation": i.is_multiple_of(4), "readOnlyRootFilesystem": true},
                "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
            }],
        },
    })
}

fn namespace(ns: &str, builder: palisade_testserver::Builder) -> palisade_testserver::Builder {
    let mut objects = vec![json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "labels": {"pod-security.kubernetes.io/enforce": "baseline"}},
    })];
    for i in 0..25 {
        let app = format!("app-{i}");
        objects.push(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": ns},
            "spec": {"replicas": 4, "selector": {"matchLabels": {"app": app}}, "template": pod_template(&app, i)},
        }));
        objects.push(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": app, "namespace": ns},
            "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": "http"}]},
        }));
        objects.push(json!({
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": app, "namespace": ns},
            "subsets": [{"addresses": [{"ip": format!("10.0.{}.{}", i, 10)}], "ports": [{"port": 8080}]}],
        }));
        objects.push(json!({
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": app, "namespace": ns},
        }));
    }
    for i in 0..50_usize {
        let verbs = if i.is_multiple_of(10) {
            json!(["*"])
        } else {
            json!(["get", "list", "watch"])
        };
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": format!("role-{i}"), "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": verbs}],
        }));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("binding-{i}"), "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("role-{i}")},
            "subjects": [{"kind": "ServiceAccount", "name": format!("app-{}", i % 25), "namespace": ns}],
        }));
    }
    for i in 0..10 {
        objects.push(json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": format!("allow-{i}"), "namespace": ns},
            "spec": {
                "podSelector": {"matchLabels": {"app": format!("app-{i}")}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"tier": "web"}}}], "ports": [{"port": 8080}]}],
            },
        }));
    }
    for i in 0..200 {
        objects.push(json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": format!("secret-{i}"), "namespace": ns},
            "data": {"token": "c2VjcmV0LXZhbHVlLWZvci1iZW5jaG1hcms="},
        }));
    }
    for i in 0..464 {
        objects.push(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("config-{i}"), "namespace": ns},
            "data": {"settings.yaml": format!("replicas: {i}\nfeature: enabled\n"), "LOG_LEVEL": "debug"},
        }));
    }
    objects.into_iter().fold(builder, |b, o| b.object(o))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kubeconfig = args
        .next()
        .expect("usage: bench-server KUBECONFIG [NAMESPACES]");
    let namespaces: usize = args.next().map_or(100, |n| n.parse().expect("a number"));
    let mut builder = TestServer::builder();
    for n in 0..namespaces {
        builder = namespace(&format!("team-{n}"), builder);
    }
    // Each Deployment's ReplicaSet and its 4 Pods.
    let server = builder.controllers(4).start();
    server
        .write_kubeconfig(std::path::Path::new(&kubeconfig))
        .expect("write the kubeconfig");
    eprintln!(
        "serving {} objects at {}",
        server.objects().len(),
        server.url()
    );
    println!("ready");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}
