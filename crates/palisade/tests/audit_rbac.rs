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
