//! Scan checks, eval and explain on small hand-written inputs.

use palisade_netpol::{checks, eval, explain, CheckKind, Input, Protocol};

const MANIFESTS: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: c
        ports: [{containerPort: 8080, name: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, ports: [{containerPort: 5432}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}, {port: metrics}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-open, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress: [{}]
  egress:
  - to: [{ipBlock: {cidr: 169.254.0.0/16}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: shop}
spec:
  podSelector: {matchLabels: {app: dbb}}
"#;

fn input() -> Input {
    let loaded = palisade_core::load_str(MANIFESTS, "test.yaml", &palisade_core::Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    Input::from_objects(&loaded.objects)
}

#[test]
fn checks_find_every_problem() {
    let found = checks(&input());
    let kinds: Vec<(CheckKind, usize, &str)> = found
        .iter()
        .map(|c| (c.kind, c.object, c.pointer.as_str()))
        .collect();
    assert!(kinds.contains(&(CheckKind::NoDefaultDenyIngress, 0, "/metadata/namespace")));
    assert!(kinds.contains(&(CheckKind::NoDefaultDenyEgress, 0, "/metadata/namespace")));
    assert!(kinds.contains(&(CheckKind::AllowAllIngress, 3, "/spec/ingress/0")));
    assert!(kinds.contains(&(CheckKind::MetadataEgress, 3, "/spec/egress/0/to/0/ipBlock")));
    assert!(kinds.contains(&(CheckKind::SelectorMatchesNothing, 4, "/spec/podSelector")));
    assert!(kinds.contains(&(
        CheckKind::UnknownNamedPort,
        2,
        "/spec/ingress/0/ports/1/port"
    )));
    assert!(!kinds.iter().any(|k| k.0 == CheckKind::WorkloadNotSelected));
}

#[test]
fn eval_names_the_deciding_policy() {
    let input = input();
    let blocked =
        eval(&input, "shop/web", "shop/db", Protocol::Tcp, 5432).expect("known workloads");
    assert!(!blocked.allowed, "web egress only reaches 169.254.0.0/16");
    assert_eq!(
        blocked.policies,
        vec!["NetworkPolicy 'shop/web-open'".to_owned()]
    );
    let open = eval(&input, "shop/db", "shop/web", Protocol::Tcp, 8080).expect("known workloads");
    assert!(open.allowed);
    assert_eq!(
        open.policies,
        vec!["NetworkPolicy 'shop/web-open'".to_owned()]
    );
    assert!(eval(&input, "shop/nope", "shop/db", Protocol::Tcp, 1).is_err());
}

#[test]
fn explain_lists_rules_per_pair() {
    let text = explain(&input());
    assert!(text.contains(
        "Connections between shop/db[Deployment] => shop/web[Deployment]: All Connections\n"
    ));
    assert!(text.contains("NetworkPolicy 'shop/web-open' Ingress rule #1 allows All Connections"));
    assert!(text.contains(
        "Connections between shop/web[Deployment] => shop/db[Deployment]: No Connections\n"
    ));
}

#[test]
fn eval_names_a_policy_allowing_only_other_ports() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns, labels: {app: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: ns, labels: {app: b}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-web, namespace: ns}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress: [{ports: [{port: 80}]}]
"#;
    let loaded = palisade_core::load_str(text, "t.yaml", &palisade_core::Limits::default());
    let input = Input::from_objects(&loaded.objects);
    let denied = eval(&input, "ns/a", "ns/b", Protocol::Tcp, 443).expect("known workloads");
    assert!(!denied.allowed);
    assert_eq!(denied.policies, vec!["NetworkPolicy 'ns/b-web'".to_owned()]);
    let lines: Vec<String> = denied.steps.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        vec!["Ingress: NetworkPolicy 'ns/b-web' Ingress rule #1 allows TCP 80".to_owned()]
    );
    let allowed = eval(&input, "ns/a", "ns/b", Protocol::Tcp, 80).expect("known workloads");
    assert!(allowed.allowed);
    assert_eq!(allowed.steps.len(), 1);
}

const NAMESPACES: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: iso, labels: {app: a}}
spec: {containers: [{name: c, ports: [{containerPort: 53, name: dns, protocol: UDP}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: same-namespace, namespace: iso}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {}}]}]
  egress: [{to: [{podSelector: {}}], ports: [{port: dns, protocol: UDP}, {port: http}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: open, labels: {app: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: open, labels: {app: c}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: open}
spec:
  podSelector: {}
  ingress: [{}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-b, namespace: open}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Egress]
---
apiVersion: v1
kind: Pod
metadata: {name: d, labels: {app: d}}
---
apiVersion: v1
kind: Pod
metadata: {name: e, namespace: partial, labels: {app: e}}
---
apiVersion: v1
kind: Pod
metadata: {name: f, namespace: partial, labels: {app: f}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: only-e, namespace: partial}
spec:
  podSelector: {matchLabels: {app: e}}
"#;

fn kinds_of(input: &Input) -> Vec<(CheckKind, usize, String)> {
    checks(input)
        .into_iter()
        .map(|c| (c.kind, c.object, c.pointer))
        .collect()
}

#[test]
fn namespace_isolation_and_unselected_workloads() {
    let loaded = palisade_core::load_str(NAMESPACES, "t.yaml", &palisade_core::Limits::default());
    let input = Input::from_objects(&loaded.objects);
    let found = kinds_of(&input);
    let ns = "/metadata/namespace".to_owned();
    // iso: a namespace-wide policy with restricted rules isolates both directions; its egress
    // named port 'http' is defined by no destination, 'dns' is.
    assert!(!found
        .iter()
        .any(|f| f.1 <= 1 && f.0 != CheckKind::UnknownNamedPort));
    assert!(found.contains(&(
        CheckKind::UnknownNamedPort,
        1,
        "/spec/egress/0/ports/1/port".to_owned()
    )));
    assert!(!found.contains(&(
        CheckKind::UnknownNamedPort,
        1,
        "/spec/egress/0/ports/0/port".to_owned()
    )));
    // open: an allow-all rule is no default deny; c escapes the only-b egress policy but the
    // allow-all policy selects it.
    assert!(found.contains(&(CheckKind::NoDefaultDenyIngress, 2, ns.clone())));
    assert!(found.contains(&(CheckKind::NoDefaultDenyEgress, 2, ns.clone())));
    assert!(found.contains(&(CheckKind::AllowAllIngress, 4, "/spec/ingress/0".to_owned())));
    assert!(!found
        .iter()
        .any(|f| f.0 == CheckKind::WorkloadNotSelected && f.1 < 6));
    // d (namespace unset, so "default") is in a namespace without policies: only the
    // namespace checks report it.
    assert!(found.contains(&(CheckKind::NoDefaultDenyIngress, 6, ns.clone())));
    assert!(!found.contains(&(
        CheckKind::WorkloadNotSelected,
        6,
        "/metadata/labels".to_owned()
    )));

    // partial: f escapes the only policy of its namespace.
    assert!(found.contains(&(
        CheckKind::WorkloadNotSelected,
        8,
        "/metadata/labels".to_owned()
    )));
    assert!(!found
        .iter()
        .any(|f| f.0 == CheckKind::WorkloadNotSelected && f.1 != 8));

    // With the unset namespace placed in "open", d joins it: no namespace finding of its own.
    let grouped = Input::from_objects_with(&loaded.objects, &|_| "open".to_owned());
    let found = kinds_of(&grouped);
    assert!(found.iter().any(|f| f.1 == 2 && f.2 == ns));
    assert!(!found.iter().any(|f| f.1 == 6));
}

#[test]
fn selectors_are_compared_with_the_workloads_of_their_directory() {
    let limits = palisade_core::Limits::default();
    let workload =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: ns, labels: {app: a}}\n";
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: ns}\nspec:\n  podSelector: {matchLabels: {app: typo}}\n";
    let found = |policy_path: &str| {
        let mut objects = palisade_core::load_str(workload, "app/pod.yaml", &limits).objects;
        objects.extend(palisade_core::load_str(policy, policy_path, &limits).objects);
        checks(&Input::from_objects(&objects))
            .into_iter()
            .any(|c| c.kind == CheckKind::SelectorMatchesNothing && c.object == 1)
    };
    assert!(found("app/policy.yaml"));
    assert!(!found("policies/policy.yaml"));
}

#[test]
fn an_invalid_pod_selector_selects_nothing_and_is_reported() {
    let limits = palisade_core::Limits::default();
    let workload =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: ns, labels: {app: a}}\n";
    let checks_of = |selector: &str| {
        let policy = format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: p, namespace: ns}}\nspec:\n  podSelector: {selector}\n  policyTypes: [Ingress]\n"
        );
        let mut objects = palisade_core::load_str(workload, "app/pod.yaml", &limits).objects;
        objects.extend(palisade_core::load_str(&policy, "app/policy.yaml", &limits).objects);
        checks(&Input::from_objects(&objects))
            .into_iter()
            .map(|c| c.kind)
            .collect::<Vec<_>>()
    };
    // An empty selector isolates the namespace; a rejected one, whatever its requirements
    // before the error, isolates nothing and matches no workload.
    assert!(!checks_of("{}").contains(&CheckKind::NoDefaultDenyIngress));
    for invalid in [
        "{matchLabels: {app: [a]}}",
        "{matchLabels: {app: a, tier: [x]}}",
        "{matchExpressions: [{key: app, operator: Exists, values: [a]}]}",
        "[app]",
    ] {
        let found = checks_of(invalid);
        assert!(
            found.contains(&CheckKind::SelectorMatchesNothing),
            "{invalid}: {found:?}"
        );
        assert!(
            found.contains(&CheckKind::NoDefaultDenyIngress),
            "{invalid}: {found:?}"
        );
    }
}
