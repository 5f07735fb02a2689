//! Loading errors at the policy's file:line, and bounded evaluation.

use std::time::{Duration, Instant};

use palisade_core::{load_str, Limits};
use palisade_policy::{Budget, EnforcementAction, PolicyErrorKind, PolicySet, Review};
use serde_json::json;

fn template(kind: &str, rego: &str) -> String {
    let body: String = rego.lines().map(|l| format!("        {l}\n")).collect();
    format!(
        "apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: {lower}
spec:
  crd:
    spec:
      names:
        kind: {kind}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            repos:
              type: array
              items:
                type: string
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
{body}",
        lower = kind.to_lowercase()
    )
}

const REPOS: &str = r#"package k8sallowedrepos
violation[{"msg": msg, "details": {"image": c.image}}] {
  c := input.review.object.spec.containers[_]
  not strings.any_prefix_match(c.image, input.parameters.repos)
  msg := sprintf("container <%v> has an invalid image repo <%v>", [c.name, c.image])
}"#;

fn constraint(kind: &str, name: &str, params: &str) -> String {
    format!(
        "apiVersion: constraints.gatekeeper.sh/v1beta1
kind: {kind}
metadata:
  name: {name}
spec:
  enforcementAction: warn
  match:
    kinds:
      - apiGroups: [\"\"]
        kinds: [\"Pod\"]
    excludedNamespaces: [\"kube-*\"]
  parameters:
{params}"
    )
}

fn load(text: &str) -> (PolicySet, Vec<palisade_policy::PolicyError>) {
    let loaded = load_str(text, "policies.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    PolicySet::load(&loaded.objects)
}

fn pod(ns: &str, image: &str) -> Review {
    Review::from_object(&json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"containers": [{"name": "app", "image": image}]}}))
}

#[test]
fn a_constraint_reports_its_message_details_and_action_on_matching_objects_only() {
    let text = format!(
        "{}---\n{}",
        template("K8sAllowedRepos", REPOS),
        constraint(
            "K8sAllowedRepos",
            "trusted",
            "    repos: [\"registry.example/\"]\n"
        )
    );
    let (set, errors) = load(&text);
    assert!(errors.is_empty(), "{errors:?}");
    let outcome = set.review(&pod("prod", "docker.io/nginx"));
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.violations.len(), 1);
    let v = &outcome.violations[0];
    assert_eq!(v.constraint(), "K8sAllowedRepos/trusted");
    assert_eq!(
        v.message,
        "container <app> has an invalid image repo <docker.io/nginx>"
    );
    assert_eq!(v.details, json!({"image": "docker.io/nginx"}));
    assert_eq!(v.action, EnforcementAction::Warn);
    assert!(set
        .review(&pod("prod", "registry.example/nginx"))
        .violations
        .is_empty());
    assert!(set
        .review(&pod("kube-system", "docker.io/nginx"))
        .violations
        .is_empty());
}

#[test]
fn broken_policies_are_errors_at_their_line_and_the_others_still_load() {
    let broken = "package broken\nviolation[{\"msg\": msg}] {\n  msg := := 1\n}";
    let text = format!(
        "{}---\n{}---\n{}---\n{}---\n{}",
        template("K8sAllowedRepos", REPOS),
        template("K8sBroken", broken),
        constraint(
            "K8sAllowedRepos",
            "bad-params",
            "    repos: \"not-a-list\"\n"
        ),
        constraint("K8sMissing", "orphan", "    repos: []\n"),
        constraint("K8sAllowedRepos", "good", "    repos: [\"x/\"]\n"),
    );
    let (set, errors) = load(&text);
    assert_eq!(set.constraints().len(), 1);
    assert_eq!(set.constraints()[0].name, "good");
    let kinds: Vec<_> = errors.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            PolicyErrorKind::RegoCompile,
            PolicyErrorKind::InvalidParameters,
            PolicyErrorKind::MissingTemplate
        ]
    );
    let rego_start = text
        .lines()
        .position(|l| l.contains("package broken"))
        .unwrap() as u32
        + 1;
    assert_eq!(errors[0].file, "policies.yaml");
    assert!(
        (rego_start..=rego_start + 3).contains(&errors[0].pos.line),
        "{} not in the Rego at {rego_start}",
        errors[0]
    );
    assert!(
        errors[1].message.contains("spec.parameters.repos"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].to_string().contains("K8sMissing"),
        "{}",
        errors[2]
    );
}

#[test]
fn a_policy_that_runs_too_long_is_stopped_by_its_budget() {
    let slow = r#"package slow
violation[{"msg": "never"}] {
  xs := numbers.range(1, 20000)
  x := xs[_]
  y := xs[_]
  x * y < 0
}"#;
    let text = format!(
        "{}---\n{}",
        template("K8sSlow", slow),
        constraint("K8sSlow", "slow", "    repos: []\n")
    );
    let (mut set, errors) = load(&text);
    assert!(errors.is_empty(), "{errors:?}");
    set.set_budget(Budget {
        per_evaluation: Duration::from_millis(50),
    });
    let start = Instant::now();
    let outcome = set.review(&pod("prod", "x"));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(outcome.violations.is_empty());
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert_eq!(outcome.errors[0].kind, PolicyErrorKind::Budget);
}

#[test]
fn a_policy_set_is_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<PolicySet>();
}
