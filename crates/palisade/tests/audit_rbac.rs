//! `palisade rbac suggest --from-audit`: the suggested Roles, loaded into palisade's own RBAC
//! authorizer, allow every request the subject made in the log and nothing beyond the verbs,
//! resources and object names seen.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use palisade_core::{load_str, Limits};
use palisade_rbac::{Attributes, Policy, UserInfo};
use serde_json::json;

struct Req {
    user: &'static str,
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    sub: &'static str,
    ns: &'static str,
    name: &'static str,
    stage: &'static str,
    code: u64,
}

const fn req(
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    ns: &'static str,
    name: &'static str,
) -> Req {
    Req {
        user: "alice",
        verb,
        group,
        resource,
        sub: "",
        ns,
        name,
        stage: "ResponseComplete",
        code: 200,
    }
}

const ALICE: &[Req] = &[
    req("get", "", "pods", "shop", "web"),
    req("get", "", "pods", "shop", "api"),
    req("list", "", "pods", "shop", ""),
    req("watch", "", "pods", "shop", ""),
    req("create", "apps", "deployments", "shop", ""),
    req("patch", "apps", "deployments", "shop", "web"),
    req("get", "", "nodes", "", "worker-1"),
    req("list", "", "namespaces", "", ""),
    Req {
        sub: "exec",
        verb: "create",
        stage: "ResponseStarted",
        code: 101,
        ..req("", "", "pods", "shop", "web")
    },
    Req {
        sub: "log",
        ..req("get", "", "pods", "payments", "db-0")
    },
];

fn line(r: &Req, i: usize) -> String {
    let mut object_ref = json!({"resource": r.resource, "apiVersion": "v1"});
    for (k, v) in [
        ("apiGroup", r.group),
        ("subresource", r.sub),
        ("namespace", r.ns),
        ("name", r.name),
    ] {
        if !v.is_empty() {
            object_ref[k] = json!(v);
        }
    }
    json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": format!("id-{i}"),
        "stage": r.stage, "verb": r.verb, "requestURI": "/apis/x", "user": {"username": r.user},
        "objectRef": object_ref, "responseStatus": {"code": r.code},
        "stageTimestamp": "2024-05-01T10:00:00Z"})
    .to_string()
}

fn attrs(r: &Req) -> Attributes {
    Attributes {
        verb: r.verb.to_owned(),
        namespace: r.ns.to_owned(),
        api_group: r.group.to_owned(),
        resource: r.resource.to_owned(),
        subresource: r.sub.to_owned(),
        name: r.name.to_owned(),
        path: String::new(),
        resource_request: true,
    }
}

#[test]
fn suggested_roles_allow_exactly_what_was_done() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    for (i, r) in ALICE.iter().enumerate() {
        log.push_str(&line(r, i));
        log.push('\n');
    }
    // Refused requests, and other users' requests, grant nothing.
    log.push_str(&line(
        &Req {
            code: 403,
            ..req("delete", "", "pods", "shop", "web")
        },
        90,
    ));
    log.push('\n');
    log.push_str(&line(
        &Req {
            user: "bob",
            ..req("get", "", "secrets", "shop", "db")
        },
        91,
    ));
    log.push('\n');
    std::fs::write(dir.path().join("audit.log"), log).unwrap();

    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .args([
            "rbac",
            "suggest",
            "--from-audit",
            "audit.log",
            "--user",
            "alice",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    let loaded = load_str(&yaml, "suggested.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}\n{yaml}", loaded.errors);
    let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.kind()).collect();
    assert_eq!(
        kinds,
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Role",
            "RoleBinding"
        ],
        "{yaml}"
    );
    let policy = Policy::from_objects(loaded.objects.iter().enumerate());
    let alice = UserInfo::new("alice", Vec::new());
    for r in ALICE {
        assert!(
            policy.can(&alice, &attrs(r)),
            "{} {} {}/{} not allowed\n{yaml}",
            r.verb,
            r.resource,
            r.ns,
            r.name
        );
    }
    let beyond = [
        req("get", "", "pods", "shop", "other"),
        req("delete", "", "pods", "shop", "web"),
        req("get", "", "secrets", "shop", "db"),
        req("list", "apps", "deployments", "shop", ""),
        req("patch", "apps", "deployments", "shop", "api"),
        req("list", "", "pods", "payments", ""),
        req("get", "", "nodes", "", "worker-2"),
        Req {
            sub: "exec",
            verb: "create",
            ..req("", "", "pods", "shop", "api")
        },
    ];
    for r in &beyond {
        assert!(
            !policy.can(&alice, &attrs(r)),
            "{} {} {}/{} allowed\n{yaml}",
            r.verb,
            r.resource,
            r.ns,
            r.name
        );
    }
    let bob = UserInfo::new("bob", Vec::new());
    assert!(!policy.can(&bob, &attrs(&ALICE[0])));
}

#[test]
fn a_subject_without_requests_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("audit.log"),
        format!("{}\n", line(&ALICE[0], 0)),
    )
    .unwrap();
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .args([
            "rbac",
            "suggest",
            "--from-audit",
            "audit.log",
            "--user",
            "carol",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no request by carol"));
}

const MANIFESTS: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: shop-dev, namespace: shop}
rules:
- apiGroups: [""]
  resources: [pods, secrets]
  verbs: [get, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [create, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-shop-dev, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: shop-dev}
subjects:
- {kind: User, apiGroup: rbac.authorization.k8s.io, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: bob-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}
subjects:
- {kind: User, apiGroup: rbac.authorization.k8s.io, name: bob}
"#;

#[test]
fn unused_lists_the_permissions_no_request_used() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rbac.yaml"), MANIFESTS).unwrap();
    let used = [
        req("get", "", "pods", "shop", "web"),
        req("create", "apps", "deployments", "shop", ""),
        // In another namespace: the RoleBinding in shop does not grant it.
        req("delete", "", "pods", "payments", "db-0"),
        Req {
            user: "bob",
            ..req("list", "", "nodes", "", "")
        },
        // Refused: uses nothing.
        Req {
            code: 403,
            ..req("get", "", "secrets", "shop", "db")
        },
    ];
    let log: String = used
        .iter()
        .enumerate()
        .map(|(i, r)| line(r, i) + "\n")
        .collect();
    std::fs::write(dir.path().join("audit.log"), log).unwrap();
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir.path())
        .args([
            "rbac",
            "unused",
            "--from-audit",
            "audit.log",
            "-f",
            "json",
            "rbac.yaml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unused: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(String, String)> = unused
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["subject"].as_str().unwrap().to_owned(),
                g["permission"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("User alice", "delete pods"),
        ("User alice", "delete secrets"),
        ("User alice", "get secrets"),
        ("User alice", "patch deployments.apps"),
        ("User bob", "get nodes"),
    ]
    .iter()
    .map(|(s, p)| (s.to_string(), p.to_string()))
    .collect();
    assert_eq!(found, want, "{unused}");
}
