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
    Input::from_objects(loaded.objects)
}

#[test]
fn checks_find_every_problem() {
    let found = checks(&input());
    let kinds: Vec<(CheckKind, usize, &str)> = found
        .iter()
        .map(|c| (c.kind, c.object, c.pointer.as_str()))
        .collect();
    assert!(kinds.contains(&(CheckKind::NoDefaultDenyIngress, 0, "/metadata")));
    assert!(kinds.contains(&(CheckKind::NoDefaultDenyEgress, 0, "/metadata")));
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
    let input = Input::from_objects(loaded.objects);
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
