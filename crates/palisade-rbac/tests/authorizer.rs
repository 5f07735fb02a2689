//! The authorizer's semantics on hand-written policies, with hand-computed answers.

use palisade_core::{load_path, Limits, Object};
use palisade_rbac::{render_rules, Attributes, DiagnosticKind, Options, Policy, Subject, UserInfo};

fn load(name: &str) -> Vec<Object> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let loaded = load_path(&path, name, &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    loaded.objects
}

fn policy(name: &str, with_defaults: bool) -> Policy {
    let options = Options {
        with_defaults,
        ..Options::default()
    };
    Policy::from_slice(&load(name), &options)
}

fn user(name: &str) -> UserInfo {
    UserInfo::impersonate(name, &[])
}

fn res(verb: &str, group: &str, resource: &str, ns: &str) -> Attributes {
    Attributes::resource(verb, group, resource).in_namespace(ns)
}

#[test]
fn role_binding_grants_only_in_its_namespace() {
    let p = policy("semantics.yaml", false);
    let alice = user("alice");
    let d = p.authorize(&alice, &res("get", "", "pods", "dev"));
    assert!(d.allowed);
    assert_eq!(d.grants.len(), 1);
    assert_eq!(d.grants[0].binding.name, "alice-reads-pods");
    assert_eq!(d.grants[0].binding.object, Some(1));
    assert_eq!(d.grants[0].subject_pointer, "/subjects/0");
    assert_eq!(d.grants[0].role.name, "pod-reader");
    assert_eq!(d.grants[0].rule.location.pointer, "/rules/0");
    assert_eq!(d.grants[0].rule.location.object, Some(0));
    assert!(!p.can(&alice, &res("get", "", "pods", "prod")));
    // A request across all namespaces is cluster-scoped: only ClusterRoleBindings count.
    assert!(!p.can(&alice, &res("get", "", "pods", "")));
    assert!(!p.can(&alice, &res("delete", "", "pods", "dev")));
    assert!(!p.can(&alice, &res("get", "apps", "pods", "dev")));
}

#[test]
fn subresources_match_exactly_or_by_star_prefix() {
    let p = policy("semantics.yaml", false);
    let alice = user("alice");
    assert!(p.can(&alice, &res("get", "", "pods/log", "dev")));
    assert!(!p.can(&alice, &res("get", "", "pods/exec", "dev")));
    assert!(!p.can(&alice, &res("list", "", "pods/log", "dev")));
    // `pods` does not grant its subresources.
    let d = p.authorize(&alice, &res("get", "", "pods/status", "dev"));
    assert!(!d.allowed && d.grants.is_empty());

    let bob = user("bob");
    // `*/scale` matches the scale subresource of any resource in any group.
    assert!(p.can(&bob, &res("update", "apps", "deployments/scale", "dev")));
    assert!(p.can(
        &bob,
        &res("update", "", "replicationcontrollers/scale", "dev")
    ));
    assert!(!p.can(&bob, &res("update", "apps", "deployments", "dev")));
    assert!(!p.can(&bob, &res("update", "apps", "deployments/status", "dev")));
    // `pods/*` is not a wildcard: it matches only a subresource literally named `*`.
    assert!(!p.can(&bob, &res("get", "", "pods/exec", "dev")));
    assert!(p.can(&bob, &res("get", "", "pods/*", "dev")));
    // The ClusterRole is bound by a RoleBinding in dev: nowhere else.
    assert!(!p.can(&bob, &res("update", "apps", "deployments/scale", "prod")));
    assert!(!p.can(&bob, &res("update", "apps", "deployments/scale", "")));
}

#[test]
fn cluster_role_binding_grants_everywhere_to_group_members() {
    let p = policy("semantics.yaml", false);
    let carol = UserInfo::impersonate("carol", &["scalers".to_owned()]);
    assert_eq!(carol.groups, ["scalers", "system:authenticated"]);
    assert!(p.can(&carol, &res("update", "apps", "statefulsets/scale", "prod")));
    assert!(p.can(&carol, &res("update", "apps", "statefulsets/scale", "")));
    assert!(!p.can(
        &user("carol"),
        &res("update", "apps", "statefulsets/scale", "prod")
    ));
}

#[test]
fn resource_names_need_a_named_request() {
    let p = policy("semantics.yaml", false);
    let carol = UserInfo::new("carol", ["scalers".to_owned()]);
    let cm = |verb: &str| res(verb, "", "configmaps", "x");
    assert!(p.can(&carol, &cm("get").named("app-config")));
    assert!(p.can(&carol, &cm("update").named("app-config")));
    assert!(!p.can(&carol, &cm("get").named("other")));
    assert!(!p.can(&carol, &cm("get")));
    assert!(!p.can(&carol, &cm("list")));
    assert!(!p.can(&carol, &cm("delete").named("app-config")));
}

#[test]
fn non_resource_urls_match_exactly_or_by_trailing_star() {
    let p = policy("semantics.yaml", false);
    let carol = UserInfo::new("carol", ["scalers".to_owned()]);
    let get = |path: &str| Attributes::non_resource("get", path);
    assert!(p.can(&carol, &get("/metrics")));
    assert!(!p.can(&carol, &get("/metrics/cadvisor")));
    assert!(p.can(&carol, &get("/logs/kube-apiserver.log")));
    assert!(p.can(&carol, &get("/logs/")));
    assert!(!p.can(&carol, &get("/logs")));
    assert!(!p.can(&carol, &Attributes::non_resource("post", "/metrics")));
    // Non-resource URLs are cluster-wide: a RoleBinding never grants them.
    assert!(!p.can(&user("bob"), &get("/metrics")));
    // Not even when a namespace is given: non-resource requests have none.
    let metrics_in_dev = get("/metrics").in_namespace("dev");
    assert!(metrics_in_dev.namespace.is_empty());
    let mut forced = get("/metrics");
    forced.namespace = "dev".to_owned();
    assert!(!p.can(&user("bob"), &forced));
    assert!(!p.authorize(&user("bob"), &forced).allowed);
    assert!(!p
        .who_can_anywhere(&get("/metrics"))
        .iter()
        .any(|s| s.subject == Subject::user("bob")));
    // `/healthz*` is a prefix: it matches `/healthz`, `/healthz/etcd` and `/healthzzz`.
    let anonymous = UserInfo::anonymous();
    assert!(p.can(&anonymous, &get("/healthz")));
    assert!(p.can(&anonymous, &get("/healthz/etcd")));
    assert!(!p.can(&anonymous, &get("/health")));
    assert!(!p.can(&user("alice"), &get("/healthz")));
}

#[test]
fn cluster_role_in_role_binding_does_not_grant_cluster_scoped_requests() {
    let p = policy("semantics.yaml", false);
    let dave = user("dave");
    assert!(!p.can(&dave, &res("get", "", "nodes", "")));
    // The authorizer matches the rule when a request carries the namespace; nodes are
    // cluster-scoped, so the API server never sends one.
    assert!(p.can(&dave, &res("get", "", "nodes", "dev")));
}

#[test]
fn service_account_subjects_and_implicit_groups() {
    let p = policy("semantics.yaml", false);
    // The subject without a namespace takes the RoleBinding's.
    let ci = UserInfo::service_account("dev", "ci");
    assert_eq!(
        ci.groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:dev",
            "system:authenticated"
        ]
    );
    assert!(p.can(&ci, &res("get", "", "pods", "dev")));
    assert!(!p.can(
        &UserInfo::service_account("prod", "ci"),
        &res("get", "", "pods", "dev")
    ));
    let deployer = UserInfo::service_account("tools", "deployer");
    assert!(p.can(&deployer, &res("get", "", "pods", "dev")));
    // Every service account of `tools` is in `system:serviceaccounts:tools`.
    assert!(p.can(
        &UserInfo::service_account("tools", "anyone"),
        &res("list", "", "nodes", "")
    ));
    // The same name without the groups is not (the groups come from the authenticator) ...
    let bare = UserInfo::new("system:serviceaccount:tools:anyone", Vec::new());
    assert!(!p.can(&bare, &res("list", "", "nodes", "")));
    // ... and impersonating the name adds them, as the API server does.
    let as_sa = UserInfo::impersonate("system:serviceaccount:tools:anyone", &[]);
    assert_eq!(
        as_sa.groups,
        [
            "system:serviceaccounts",
            "system:serviceaccounts:tools",
            "system:authenticated"
        ]
    );
    assert!(p.can(&as_sa, &res("list", "", "nodes", "")));
    // Given groups replace the service-account groups.
    let with_group = UserInfo::impersonate("system:serviceaccount:tools:anyone", &["x".into()]);
    assert_eq!(with_group.groups, ["x", "system:authenticated"]);
    assert!(!p.can(&with_group, &res("list", "", "nodes", "")));
    // A service account without a namespace in a ClusterRoleBinding matches nothing.
    let orphan = UserInfo::service_account("default", "orphan");
    assert!(!p.can(
        &orphan,
        &res("update", "apps", "deployments/scale", "default")
    ));
}

#[test]
fn impersonation_groups() {
    assert_eq!(
        UserInfo::impersonate("system:anonymous", &[]).groups,
        ["system:unauthenticated"]
    );
    assert_eq!(
        UserInfo::impersonate("bob", &["system:unauthenticated".into()]).groups,
        ["system:unauthenticated"]
    );
    assert_eq!(
        UserInfo::impersonate("bob", &[]).groups,
        ["system:authenticated"]
    );
}

#[test]
fn diagnostics_report_missing_roles_and_ignored_subjects() {
    let p = policy("semantics.yaml", false);
    let missing: Vec<_> = p.missing_roles().collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert_eq!(missing[0].object, Some(10));
    assert_eq!(missing[0].pointer, "/roleRef");
    assert!(missing[0].message.contains("does-not-exist"));
    assert_eq!(missing[1].object, Some(11));
    assert!(missing[1].message.contains("default ClusterRole"));
    assert!(!p.can(&user("erin"), &res("get", "", "pods", "dev")));
    let ignored: Vec<_> = p
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagnosticKind::IgnoredSubject)
        .map(|d| (d.object, d.pointer.as_str()))
        .collect();
    assert_eq!(
        ignored,
        [(Some(5), "/subjects/2"), (Some(6), "/subjects/0")]
    );
    assert!(!p.can(&user("lowercase-kind"), &res("get", "", "pods", "dev")));
}

#[test]
fn who_can_lists_subjects_with_their_grants() {
    let p = policy("semantics.yaml", false);
    let who = p.who_can(&res("get", "", "pods", "dev"));
    let subjects: Vec<&Subject> = who.iter().map(|w| &w.subject).collect();
    assert_eq!(
        subjects,
        [
            &Subject::user("alice"),
            &Subject::service_account("dev", "ci"),
            &Subject::service_account("tools", "deployer"),
        ]
    );
    assert_eq!(who[2].grants[0].binding.name, "ci-reads-pods");
    assert_eq!(who[2].grants[0].subject_pointer, "/subjects/1");
    let json = serde_json::to_value(&who[1].subject).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "ServiceAccount", "name": "ci", "namespace": "dev"})
    );
    assert_eq!(
        serde_json::to_value(&who[0].subject).unwrap(),
        serde_json::json!({"kind": "User", "name": "alice"})
    );

    let scale = p.who_can(&res("update", "apps", "deployments/scale", "dev"));
    let subjects: Vec<&Subject> = scale.iter().map(|w| &w.subject).collect();
    assert_eq!(
        subjects,
        [&Subject::user("bob"), &Subject::group("scalers")]
    );
    assert!(
        p.who_can(&res("update", "apps", "deployments/scale", "prod"))
            .len()
            == 1
    );
    // Anywhere: RoleBindings of every namespace count, each in its namespace.
    let anywhere = p.who_can_anywhere(&res("get", "", "pods", ""));
    assert_eq!(anywhere.len(), 3);
    let metrics = p.who_can(&Attributes::non_resource("get", "/metrics"));
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].subject, Subject::group("scalers"));
}

#[test]
fn aggregated_cluster_roles_take_the_rules_of_the_roles_they_select() {
    let p = policy("aggregation.yaml", false);
    let grace = user("grace");
    // From a-endpoints (matchLabels) and b-metrics (matchExpressions, a duplicate rule).
    assert!(p.can(&grace, &res("get", "", "endpoints", "x")));
    assert!(p.can(&grace, &res("list", "", "pods", "x")));
    // c-old has `deprecated`, d-services has the label with another value.
    assert!(!p.can(&grace, &res("get", "", "pods/log", "x")));
    assert!(!p.can(&grace, &res("get", "", "services", "x")));
    // The aggregated role's own rules are replaced by the controller.
    assert!(!p.can(&grace, &res("get", "", "secrets", "x")));
    let monitoring = p.cluster_role("monitoring").unwrap();
    let rules: Vec<(Option<usize>, &str)> = p
        .role_rules(p.cluster_role_id("monitoring").unwrap())
        .map(|d| (d.location.object, d.location.pointer.as_str()))
        .collect();
    assert_eq!(rules, [(Some(2), "/rules/0"), (Some(2), "/rules/1")]);
    let from: Vec<&str> = monitoring
        .aggregated_from
        .iter()
        .map(|r| p.roles[*r].name.as_str())
        .collect();
    assert_eq!(from, ["a-endpoints", "b-metrics"]);
    let grant = &p
        .authorize(&grace, &res("get", "", "endpoints", "x"))
        .grants[0];
    assert_eq!(grant.role.name, "monitoring");
    assert_eq!(grant.rule.role.name, "a-endpoints");
    // Aggregation through another aggregated role.
    assert_eq!(p.cluster_role("platform").unwrap().rules.len(), 2);
    // An invalid selector is reported and selects nothing.
    assert!(p.cluster_role("broken").unwrap().rules.is_empty());
    assert!(p
        .diagnostics
        .iter()
        .any(|d| d.kind == DiagnosticKind::InvalidSelector && d.object == Some(7)));
}

#[test]
fn default_policy_aggregates_view_edit_admin() {
    let p = policy("semantics.yaml", true);
    assert_eq!(p.missing_roles().count(), 1);
    let frank = user("frank");
    assert!(p.can(&frank, &res("get", "", "pods", "anywhere")));
    assert!(p.can(&frank, &res("list", "apps", "deployments", "")));
    assert!(!p.can(&frank, &res("get", "", "secrets", "anywhere")));
    assert!(!p.can(&frank, &res("create", "", "pods", "anywhere")));
    let edit = p.cluster_role("edit").unwrap();
    let admin = p.cluster_role("admin").unwrap();
    let view = p.cluster_role("view").unwrap();
    assert_eq!(view.rules.len(), 10);
    // edit = aggregate-to-edit (13 rules) + view's rules; admin adds aggregate-to-admin (2).
    assert_eq!(edit.rules.len(), 13 + 10);
    assert_eq!(admin.rules.len(), 2 + 13 + 10);
    let masters = UserInfo::new("root", ["system:masters".to_owned()]);
    assert!(p.can(&masters, &res("delete", "", "nodes", "")));
    assert!(p.can(&masters, &Attributes::non_resource("post", "/anything")));
    let anonymous = UserInfo::anonymous();
    assert!(p.can(&anonymous, &Attributes::non_resource("get", "/version")));
    assert!(!p.can(&anonymous, &Attributes::non_resource("get", "/api")));
    assert!(p.can(
        &anonymous,
        &res("get", "", "configmaps", "kube-public").named("cluster-info")
    ));
}

#[test]
fn can_i_list_matches_kubectl() {
    let p = policy("semantics.yaml", false);
    let carol = UserInfo::impersonate("carol", &["scalers".to_owned()]);
    let (resource, non_resource) = p.rules_for(&carol, "dev");
    assert_eq!(resource.len(), 3);
    assert_eq!(non_resource.len(), 1);
    let expected = "\
Resources    Non-Resource URLs   Resource Names   Verbs
configmaps   []                  [app-config]     [get update]
             [/logs/*]           []               [get]
             [/metrics]          []               [get]
pods/*       []                  []               [get]
*.*/scale    []                  []               [update]
";
    assert_eq!(render_rules(&resource, &non_resource), expected);
}

#[test]
fn can_i_list_of_a_plain_user_with_defaults() {
    let p = Policy::from_slice(
        &[],
        &Options {
            with_defaults: true,
            ..Options::default()
        },
    );
    let (resource, non_resource) = p.rules_for(&user("jane"), "default");
    let expected = "\
Resources                                       Non-Resource URLs   Resource Names   Verbs
selfsubjectreviews.authentication.k8s.io        []                  []               [create]
selfsubjectaccessreviews.authorization.k8s.io   []                  []               [create]
selfsubjectrulesreviews.authorization.k8s.io    []                  []               [create]
                                                [/api/*]            []               [get]
                                                [/api]              []               [get]
                                                [/apis/*]           []               [get]
                                                [/apis]             []               [get]
                                                [/healthz]          []               [get]
                                                [/healthz]          []               [get]
                                                [/livez]            []               [get]
                                                [/livez]            []               [get]
                                                [/openapi/*]        []               [get]
                                                [/openapi]          []               [get]
                                                [/readyz]           []               [get]
                                                [/readyz]           []               [get]
                                                [/version/]         []               [get]
                                                [/version/]         []               [get]
                                                [/version]          []               [get]
                                                [/version]          []               [get]
";
    assert_eq!(render_rules(&resource, &non_resource), expected);
}

#[test]
fn attributes_parse_like_kubectl() {
    let a = Attributes::parse("create", "deploy", None);
    assert_eq!(
        (a.api_group.as_str(), a.resource.as_str()),
        ("apps", "deployments")
    );
    let a = Attributes::parse("create", "pods/exec", None);
    assert_eq!(
        (a.resource.as_str(), a.subresource.as_str()),
        ("pods", "exec")
    );
    let a = Attributes::parse("get", "widgets.example.com/status", None);
    assert_eq!(
        (
            a.api_group.as_str(),
            a.resource.as_str(),
            a.subresource.as_str()
        ),
        ("example.com", "widgets", "status")
    );
    let a = Attributes::parse("get", "/metrics", None);
    assert!(!a.resource_request && a.path == "/metrics");
    assert!(a.is_cluster_scoped());
    assert!(Attributes::parse("get", "no", None).is_cluster_scoped());
    assert!(Attributes::parse("create", "clusterrolebindings", None).is_cluster_scoped());
    assert!(Attributes::parse("approve", "signers", None).is_cluster_scoped());
    assert!(!Attributes::parse("get", "secrets", None).is_cluster_scoped());
    assert!(!Attributes::parse("get", "nodes", Some("example.com")).is_cluster_scoped());
    let a = Attributes::parse("get", "deployments", Some("extensions"));
    assert_eq!(a.api_group, "extensions");
    assert_eq!(
        Subject::parse("system:serviceaccount:ns:sa"),
        Some(Subject::service_account("ns", "sa"))
    );
    assert_eq!(Subject::parse("Group:devs"), Some(Subject::group("devs")));
    assert_eq!(Subject::parse("alice"), Some(Subject::user("alice")));
    assert_eq!(Subject::parse("system:serviceaccount:ns"), None);
}

#[test]
fn graph_has_subjects_bindings_and_roles() {
    let p = policy("semantics.yaml", false);
    let graph = p.graph();
    assert!(graph.subjects.iter().any(|s| s.id == "user:alice"));
    let b = graph
        .bindings
        .iter()
        .find(|b| b.id == "rolebinding:dev/bob-scales-in-dev")
        .unwrap();
    assert_eq!(b.role.as_deref(), Some("clusterrole:scaler"));
    assert_eq!(b.subjects, ["user:bob"]);
    let missing = graph
        .bindings
        .iter()
        .find(|b| b.id == "rolebinding:dev/to-missing-role")
        .unwrap();
    assert_eq!(missing.role, None);
    let scaler = graph
        .roles
        .iter()
        .find(|r| r.id == "clusterrole:scaler")
        .unwrap();
    assert_eq!(scaler.permissions.len(), 4);
    let dot = graph.to_dot();
    assert!(dot.starts_with("digraph rbac {"));
    assert!(dot.contains("\"user:bob\" -> \"rolebinding:dev/bob-scales-in-dev\";"));
    assert!(dot.contains("missing:Role does-not-exist"));
    let json = serde_json::to_value(&graph).unwrap();
    assert_eq!(json["roles"].as_array().unwrap().len(), graph.roles.len());
}
