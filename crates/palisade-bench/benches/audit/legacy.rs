//! The first mix of the audit benchmark (`AUDIT_BENCH_MIX=legacy`): 60 % reads, 20 % pod
//! creates with their object, 5 % exec sessions, 10 % 401/403 failures, 5 % secret reads, by
//! seven users of whom three are people. Kept to compare with the figures measured on it; it
//! makes more alerts than events (see docs/benchmarks.md).

use palisade_bench::rng::Rng;
use serde_json::{json, Value};

const USERS: &[&str] = &[
    "alice",
    "bob",
    "ci-deployer",
    "system:serviceaccount:kube-system:replicaset-controller",
    "system:serviceaccount:shop:api",
    "system:node:worker-1",
    "system:kube-scheduler",
];
const NAMESPACES: &[&str] = &["shop", "payments", "default", "kube-system", "monitoring"];
const READ_RESOURCES: &[&str] = &[
    "pods",
    "services",
    "configmaps",
    "endpoints",
    "nodes",
    "leases",
];

fn base(
    rng: &mut Rng,
    i: usize,
    stage: &str,
    verb: &str,
    code: u64,
) -> serde_json::Map<String, Value> {
    let user = *rng.pick(USERS);
    let ts = format!(
        "2024-05-01T{:02}:{:02}:{:02}.{:06}Z",
        (i / 3_600_000) % 24,
        (i / 60_000) % 60,
        (i / 1000) % 60,
        (i % 1000) * 1000
    );
    let mut m = serde_json::Map::new();
    m.insert("kind".into(), json!("Event"));
    m.insert("apiVersion".into(), json!("audit.k8s.io/v1"));
    m.insert("level".into(), json!("RequestResponse"));
    m.insert(
        "auditID".into(),
        json!(format!(
            "{:08x}-1c2d-4e5f-8a9b-{:012x}",
            i,
            rng.next_u64() & 0xffff_ffff_ffff
        )),
    );
    m.insert("stage".into(), json!(stage));
    m.insert("verb".into(), json!(verb));
    m.insert(
        "user".into(),
        json!({"username": user, "uid": "5c1b3c9e-8f0e-4a8b-9d52-1f2e3d4c5b6a",
               "groups": ["system:authenticated", "developers"],
               "extra": {"authentication.kubernetes.io/credential-id": ["X509SHA256=6e1f0a3b"]}}),
    );
    m.insert(
        "sourceIPs".into(),
        json!([format!("10.0.{}.{}", rng.below(4), rng.below(250))]),
    );
    m.insert(
        "userAgent".into(),
        json!("kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"),
    );
    m.insert(
        "responseStatus".into(),
        json!({"metadata": {}, "code": code}),
    );
    m.insert("requestReceivedTimestamp".into(), json!(ts));
    m.insert("stageTimestamp".into(), json!(ts));
    m.insert(
        "annotations".into(),
        json!({"authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" },
               "authorization.k8s.io/reason": "RBAC: allowed by ClusterRoleBinding \"developers\" of ClusterRole \"edit\" to Group \"developers\""}),
    );
    m
}

fn pod(rng: &mut Rng, name: &str, ns: &str) -> Value {
    let privileged = rng.chance(5);
    let containers: Vec<Value> = (0..1 + rng.below(3))
        .map(|c| {
            json!({"name": format!("c{c}"), "image": format!("registry.example.com/team/app-{c}:1.{}.0", rng.below(20)),
                   "ports": [{"containerPort": 8080 + c, "protocol": "TCP"}],
                   "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "REGION", "value": "eu-west-1"}],
                   "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                   "securityContext": {"privileged": privileged, "runAsNonRoot": true, "allowPrivilegeEscalation": false,
                                       "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}}})
        })
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns, "labels": {"app": "shop", "tier": "backend"}},
           "spec": {"serviceAccountName": "api", "automountServiceAccountToken": false,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": containers}})
}

pub fn event(rng: &mut Rng, i: usize) -> Value {
    let ns = *rng.pick(NAMESPACES);
    let roll = rng.below(100);
    let mut m;
    let mut object_ref = serde_json::Map::new();
    object_ref.insert("namespace".into(), json!(ns));
    object_ref.insert("apiVersion".into(), json!("v1"));
    if roll < 60 {
        let resource = *rng.pick(READ_RESOURCES);
        let verb = if rng.chance(50) { "get" } else { "list" };
        m = base(rng, i, "ResponseComplete", verb, 200);
        object_ref.insert("resource".into(), json!(resource));
        if verb == "get" {
            object_ref.insert(
                "name".into(),
                json!(format!("{resource}-{}", rng.below(500))),
            );
        }
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/{resource}")),
        );
    } else if roll < 80 {
        let name = format!("web-{}", rng.below(10_000));
        m = base(rng, i, "ResponseComplete", "create", 201);
        object_ref.insert("resource".into(), json!("pods"));
        object_ref.insert("name".into(), json!(name));
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/pods")),
        );
        let object = pod(rng, &name, ns);
        m.insert("responseObject".into(), json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns, "uid": "0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "resourceVersion": "123456"}}));
        m.insert("requestObject".into(), object);
    } else if roll < 85 {
        m = base(rng, i, "ResponseStarted", "create", 101);
        object_ref.insert("resource".into(), json!("pods"));
        object_ref.insert("subresource".into(), json!("exec"));
        object_ref.insert("name".into(), json!(format!("web-{}", rng.below(100))));
        m.insert(
            "requestURI".into(),
            json!(format!(
                "/api/v1/namespaces/{ns}/pods/web/exec?command=sh&container=c0&stdin=true&tty=true"
            )),
        );
    } else if roll < 95 {
        let code = if rng.chance(50) { 401 } else { 403 };
        m = base(rng, i, "ResponseComplete", "list", code);
        object_ref.insert("resource".into(), json!("secrets"));
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/secrets")),
        );
    } else {
        m = base(rng, i, "ResponseComplete", "get", 200);
        object_ref.insert("resource".into(), json!("secrets"));
        object_ref.insert("name".into(), json!("db-credentials"));
        m.insert(
            "requestURI".into(),
            json!(format!("/api/v1/namespaces/{ns}/secrets/db-credentials")),
        );
    }
    m.insert("objectRef".into(), Value::Object(object_ref));
    Value::Object(m)
}
