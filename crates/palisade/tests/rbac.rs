//! End-to-end tests of `palisade rbac` on `tests/rbac/policy.yaml`, with expectations computed
//! by hand from that file: who-can, can-i (exit codes, implied groups, --list), graph, paths
//! and input errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rbac")
}

/// Runs `palisade rbac ARGS` in the fixture directory (so files print as `policy.yaml`).
fn rbac(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(cargo_bin("palisade"))
        .current_dir(dir())
        .env("NO_COLOR", "1")
        .arg("rbac")
        .args(args)
        .output()
        .expect("palisade runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn who_can_lists_subjects_with_binding_role_and_place() {
    let (code, out, err) = rbac(&["who-can", "get", "secrets", "policy.yaml"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "\
SUBJECT                               BINDING                        ROLE                       WHERE
Group team-devs                       RoleBinding team/team-secrets  ClusterRole secret-reader  policy.yaml:20:3
ServiceAccount monitoring/prometheus  ClusterRoleBinding monitoring  ClusterRole secret-reader  policy.yaml:13:3
"
    );
    // The binding to a role missing from the input is reported with its place.
    assert!(
        err.contains("warning: policy.yaml:41:1: ClusterRoleBinding deployer-admin refers to ClusterRole \"cluster-admin\""),
        "{err}"
    );
    // In another namespace only the ClusterRoleBinding counts.
    let (_, out, _) = rbac(&["who-can", "list", "secrets", "-n", "other", "policy.yaml"]);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("ServiceAccount monitoring/prometheus"));
}

#[test]
fn who_can_non_resource_urls_subresources_and_names() {
    // RoleBindings never grant non-resource URLs.
    let (_, out, _) = rbac(&["who-can", "get", "/metrics", "policy.yaml"]);
    let subjects: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split("  ").next().unwrap())
        .collect();
    assert_eq!(subjects, ["ServiceAccount monitoring/prometheus"]);
    let (_, out, _) = rbac(&[
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "team",
        "policy.yaml",
    ]);
    assert_eq!(
        out,
        "\
SUBJECT                          BINDING                ROLE            WHERE
Group system:serviceaccounts:ci  RoleBinding team/exec  Role team/exec  policy.yaml:35:3
ServiceAccount team/runner       RoleBinding team/exec  Role team/exec  policy.yaml:34:3
"
    );
    // A rule with resourceNames grants only requests for those names.
    let (code, out, _) = rbac(&["who-can", "get", "cm", "-n", "team", "policy.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(out, "no subject can get configmaps in namespace team\n");
    let (_, out, _) = rbac(&[
        "who-can",
        "get",
        "cm",
        "-n",
        "team",
        "--name",
        "settings",
        "policy.yaml",
    ]);
    assert_eq!(out.lines().count(), 3, "{out}");
    // A group other than the resource's own.
    let (_, out, _) = rbac(&[
        "who-can",
        "get",
        "secrets",
        "--api-group",
        "example.com",
        "policy.yaml",
    ]);
    assert!(
        out.starts_with("no subject can get secrets.example.com"),
        "{out}"
    );
}

#[test]
fn who_can_json_uses_the_subject_form_and_locates_grants() {
    let (code, out, _) = rbac(&[
        "who-can",
        "get",
        "secrets",
        "-n",
        "team",
        "--format",
        "json",
        "policy.yaml",
    ]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(
        v["request"],
        json(r#"{"verb":"get","group":"","resource":"secrets","namespace":"team"}"#)
    );
    let subjects = v["subjects"].as_array().unwrap();
    assert_eq!(subjects.len(), 2);
    assert_eq!(
        subjects[0]["subject"],
        json(r#"{"kind":"Group","name":"team-devs"}"#)
    );
    assert_eq!(
        subjects[1]["subject"],
        json(r#"{"kind":"ServiceAccount","name":"prometheus","namespace":"monitoring"}"#)
    );
    let grant = &subjects[1]["grants"][0];
    assert_eq!(
        grant["binding"],
        json(r#"{"kind":"ClusterRoleBinding","name":"monitoring"}"#)
    );
    assert_eq!(grant["bindingAt"]["line"], 13);
    assert_eq!(grant["rule"]["at"]["line"], 5);
    assert_eq!(grant["rule"]["text"], "get,list secrets");
}

#[test]
fn can_i_answers_yes_or_no_with_exit_codes() {
    let cases: &[(&[&str], &str, i32)] = &[
        (
            &[
                "create",
                "pods/exec",
                "--as",
                "system:serviceaccount:team:runner",
                "-n",
                "team",
            ],
            "yes",
            0,
        ),
        (
            &[
                "create",
                "pods/exec",
                "--as",
                "system:serviceaccount:team:runner",
                "-n",
                "other",
            ],
            "no",
            1,
        ),
        // The service-account user implies the group system:serviceaccounts:ci.
        (
            &[
                "create",
                "pods/exec",
                "--as",
                "system:serviceaccount:ci:builder",
                "-n",
                "team",
            ],
            "yes",
            0,
        ),
        (
            &["create", "pods/exec", "--as", "alice", "-n", "team"],
            "no",
            1,
        ),
        (
            &[
                "create",
                "pods/exec",
                "--as",
                "alice",
                "--as-group",
                "system:serviceaccounts:ci",
                "-n",
                "team",
            ],
            "yes",
            0,
        ),
        (
            &[
                "get",
                "pods/exec",
                "--as",
                "system:serviceaccount:team:runner",
                "-n",
                "team",
            ],
            "no",
            1,
        ),
        (
            &[
                "get",
                "secrets",
                "--as",
                "bob",
                "--as-group",
                "team-devs",
                "-n",
                "team",
            ],
            "yes",
            0,
        ),
        // Without a namespace the request is cluster-wide: the RoleBinding does not apply.
        (
            &["get", "secrets", "--as", "bob", "--as-group", "team-devs"],
            "no",
            1,
        ),
        (
            &[
                "get",
                "/metrics",
                "--as",
                "system:serviceaccount:monitoring:prometheus",
            ],
            "yes",
            0,
        ),
        (
            &[
                "get",
                "/metrics",
                "--as",
                "bob",
                "--as-group",
                "team-devs",
                "-n",
                "team",
            ],
            "no",
            1,
        ),
    ];
    for (args, answer, code) in cases {
        let mut all = vec!["can-i"];
        all.extend_from_slice(args);
        all.push("policy.yaml");
        let (got, out, err) = rbac(&all);
        assert_eq!(
            (got, out.as_str()),
            (*code, &format!("{answer}\n")[..]),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn can_i_json_names_the_grant() {
    let (code, out, _) = rbac(&[
        "can-i",
        "get",
        "cm",
        "--name",
        "settings",
        "--as",
        "system:serviceaccount:team:runner",
        "-n",
        "team",
        "--format",
        "json",
        "policy.yaml",
    ]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["allowed"], true);
    assert_eq!(v["user"]["name"], "system:serviceaccount:team:runner");
    assert_eq!(
        v["user"]["groups"],
        json(r#"["system:serviceaccounts","system:serviceaccounts:team","system:authenticated"]"#)
    );
    assert_eq!(v["grants"].as_array().unwrap().len(), 1);
    assert_eq!(v["grants"][0]["rule"]["at"]["pointer"], "/rules/1");
    assert_eq!(v["grants"][0]["bindingAt"]["line"], 34);
}

#[test]
fn can_i_list_prints_the_rules_like_kubectl() {
    let (code, out, _) = rbac(&[
        "can-i",
        "--list",
        "--as",
        "system:serviceaccount:monitoring:prometheus",
        "policy.yaml",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "\
Resources   Non-Resource URLs   Resource Names   Verbs
secrets     []                  []               [get list]
            [/metrics]          []               [get]
"
    );
    let (code, out, _) = rbac(&["can-i", "--list", "--as", "nobody", "policy.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "Resources   Non-Resource URLs   Resource Names   Verbs\n"
    );
    let (code, _, err) = rbac(&["can-i", "--as", "nobody", "policy.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs VERB and RESOURCE"), "{err}");
}

#[test]
fn graph_as_json_and_dot() {
    let (code, out, _) = rbac(&["graph", "--format", "json", "policy.yaml"]);
    assert_eq!(code, 0);
    let v = json(&out);
    let ids = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        ids("subjects"),
        [
            "group:system:serviceaccounts:ci",
            "group:team-devs",
            "sa:monitoring/prometheus",
            "sa:team/deployer",
            "sa:team/runner"
        ]
    );
    assert_eq!(
        ids("bindings"),
        [
            "clusterrolebinding:monitoring",
            "clusterrolebinding:deployer-admin",
            "rolebinding:team/team-secrets",
            "rolebinding:team/exec"
        ]
    );
    assert_eq!(
        ids("roles"),
        ["clusterrole:secret-reader", "role:team/exec"]
    );
    let (code, dot, _) = rbac(&["graph", "policy.yaml"]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph rbac {\n"));
    assert!(dot.contains("  \"sa:team/runner\" -> \"rolebinding:team/exec\";\n"));
    assert!(dot.contains("\"rolebinding:team/exec\" -> \"role:team/exec\";"));
    assert!(dot.contains("\"missing:ClusterRole cluster-admin\""));
}

#[test]
fn paths_lead_through_exec_to_cluster_admin() {
    let (code, out, _) = rbac(&[
        "paths",
        "--from",
        "system:serviceaccount:team:runner",
        "--with-defaults",
        "policy.yaml",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "\
ServiceAccount team/runner -> cluster-admin (2 steps)
  1. ServiceAccount team/runner: exec into pods in namespace team: uses the tokens of their service accounts
     via RoleBinding team/exec -> Role team/exec at policy.yaml:26:3
     => ServiceAccount team/deployer
  2. ServiceAccount team/deployer: holds every permission of the cluster
     via ClusterRoleBinding deployer-admin -> ClusterRole cluster-admin at (default policy)
     => cluster-admin
"
    );
    // One step short, or without the default cluster-admin, there is none.
    let (_, out, _) = rbac(&[
        "paths",
        "--from",
        "ServiceAccount:team:runner",
        "--with-defaults",
        "--max-steps",
        "1",
        "policy.yaml",
    ]);
    assert_eq!(out, "no escalation path within 1 steps\n");
    let (_, out, _) = rbac(&["paths", "policy.yaml"]);
    assert_eq!(out, "no escalation path within 5 steps\n");
    // A stated target.
    let (_, out, _) = rbac(&[
        "paths",
        "--to",
        "ServiceAccount:team:deployer",
        "--format",
        "json",
        "policy.yaml",
    ]);
    // Reading secrets in team (team-devs) or everywhere (prometheus) yields deployer's token;
    // exec into team's pods (runner and the ci service accounts) too.
    let v = json(&out);
    let from: Vec<&Value> = v.as_array().unwrap().iter().map(|p| &p["from"]).collect();
    assert_eq!(
        from,
        [
            &json(r#"{"kind":"Group","name":"system:serviceaccounts:ci"}"#),
            &json(r#"{"kind":"Group","name":"team-devs"}"#),
            &json(r#"{"kind":"ServiceAccount","name":"prometheus","namespace":"monitoring"}"#),
            &json(r#"{"kind":"ServiceAccount","name":"runner","namespace":"team"}"#)
        ]
    );
    assert_eq!(v[3]["steps"][0]["grant"]["binding"]["name"], "exec");
    assert_eq!(v[2]["steps"][0]["grant"]["binding"]["name"], "monitoring");
    assert_eq!(
        v[3]["target"],
        json(
            r#"{"kind":"Identity","subject":{"kind":"ServiceAccount","name":"deployer","namespace":"team"}}"#
        )
    );
    let (code, _, err) = rbac(&["paths", "--from", "ServiceAccount:team", "policy.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected User:NAME"), "{err}");
}

#[test]
fn input_errors_are_located_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Role\nmetadata: [unclosed\n").unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let (code, out, err) = rbac(&["who-can", "get", "secrets", "policy.yaml", &bad]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("error: {bad}:3:1: invalid YAML")),
        "{err}"
    );
    // The answer covers the files that could be read.
    assert!(
        out.contains("ServiceAccount monitoring/prometheus"),
        "{out}"
    );
    let (code, out, err) = rbac(&["can-i", "get", "secrets", "--as", "x", "missing.yaml"]);
    assert_eq!((code, out.as_str()), (2, "no\n"));
    assert!(
        err.contains("error: missing.yaml:1:1: no such file or directory"),
        "{err}"
    );
}
