//! ValidatingAdmissionPolicy and binding: matching, params, messages, failure policy.

use palisade_core::{load_str, Limits};
use palisade_policy::{EnforcementAction, PolicySet, Review};
use serde_json::json;

const POLICY: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-limit
spec:
  failurePolicy: FAILURE
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["deployments"]
  matchConditions:
    - name: not-exempt
      expression: "!('exempt' in object.metadata.labels)"
  variables:
    - name: max
      expression: "int(params.data.maxReplicas)"
  validations:
    - expression: "object.spec.replicas <= variables.max"
      messageExpression: "'replicas ' + string(object.spec.replicas) + ' > ' + string(variables.max)"
    - expression: "object.spec.template.spec.nodeName == 'x'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: replica-limit-prod
spec:
  policyName: replica-limit
  validationActions: [Warn, Audit]
  paramRef:
    name: limits
    parameterNotFoundAction: NOTFOUND
  matchResources:
    namespaceSelector:
      matchLabels:
        env: prod
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: limits
  namespace: prod
data:
  maxReplicas: "3"
"#;

fn load(failure: &str, not_found: &str, params: bool) -> PolicySet {
    let mut text = POLICY
        .replace("FAILURE", failure)
        .replace("NOTFOUND", not_found);
    if !params {
        text = text.replace(
            "  name: limits\n  namespace: prod",
            "  name: other\n  namespace: prod",
        );
    }
    let loaded = load_str(&text, "vap.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (mut set, errors) = PolicySet::load(&loaded.objects);
    assert!(errors.is_empty(), "{errors:?}");
    let mut inventory = palisade_policy::Inventory::new();
    inventory.add(&json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "prod", "labels": {"env": "prod"}}}));
    inventory.add(&json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "dev", "labels": {"env": "dev"}}}));
    assert!(set.set_inventory(inventory).is_empty());
    set
}

fn deployment(ns: &str, replicas: i64, labels: serde_json::Value) -> Review {
    Review::from_object(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns, "labels": labels},
        "spec": {"replicas": replicas, "template": {"spec": {"nodeName": "x"}}}}))
}

#[test]
fn a_binding_reports_failed_validations_with_their_messages_and_actions() {
    let set = load("Fail", "Deny", true);
    let outcome = set.review(&deployment("prod", 5, json!({})));
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let messages: Vec<_> = outcome
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert_eq!(messages, vec!["replicas 5 > 3"]);
    let v = &outcome.violations[0];
    assert_eq!(
        v.constraint(),
        "ValidatingAdmissionPolicyBinding/replica-limit-prod"
    );
    assert_eq!(v.action, EnforcementAction::Warn);
    assert!(set
        .review(&deployment("prod", 2, json!({})))
        .violations
        .is_empty());
    // Out of scope: another namespace, a match condition, another resource.
    assert!(set
        .review(&deployment("dev", 5, json!({})))
        .violations
        .is_empty());
    assert!(set
        .review(&deployment("prod", 5, json!({"exempt": "yes"})))
        .violations
        .is_empty());
    let pod = Review::from_object(&json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "prod"}, "spec": {"replicas": 9}}));
    assert!(set.review(&pod).violations.is_empty());
}

#[test]
fn missing_params_deny_or_allow_as_the_binding_says() {
    let set = load("Fail", "Deny", false);
    let outcome = set.review(&deployment("prod", 1, json!({})));
    assert_eq!(outcome.violations.len(), 1);
    assert!(outcome.violations[0].message.contains("no params found"));
    let set = load("Fail", "Allow", false);
    assert!(set
        .review(&deployment("prod", 9, json!({})))
        .violations
        .is_empty());
}

#[test]
fn an_evaluation_error_follows_the_failure_policy() {
    let broken = |set: &PolicySet| {
        set.review(&Review::from_object(
            &json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod", "labels": {}},
            "spec": {"replicas": 1}}),
        ))
    };
    let outcome = broken(&load("Fail", "Deny", true));
    assert_eq!(outcome.violations.len(), 1, "{:?}", outcome.violations);
    assert!(outcome.violations[0].message.contains("replica-limit"));
    assert!(outcome.errors.is_empty());
    let outcome = broken(&load("Ignore", "Deny", true));
    assert!(outcome.violations.is_empty());
    assert_eq!(outcome.errors.len(), 1);
}

const AUDITED: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: replica-audit
spec:
  paramKind:
    apiVersion: v1
    kind: ConfigMap
  matchConstraints:
    resourceRules:
      - apiGroups: ["apps"]
        apiVersions: ["v1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["deployments"]
  auditAnnotations:
    - key: high-replica-count
      valueExpression: "object.spec.replicas > int(params.data.max) ? 'over ' + params.data.max : null"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: strict
spec:
  policyName: replica-audit
  validationActions: [Audit]
  paramRef:
    name: strict
    namespace: prod
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: lax
spec:
  policyName: replica-audit
  validationActions: [Audit]
  paramRef:
    name: lax
    namespace: prod
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: strict
  namespace: prod
data:
  max: "3"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: lax
  namespace: prod
data:
  max: "4"
"#;

#[test]
fn audit_annotations_are_named_after_the_policy_and_join_the_values_of_its_bindings() {
    let loaded = load_str(AUDITED, "audit.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (set, errors) = PolicySet::load(&loaded.objects);
    assert!(errors.is_empty(), "{errors:?}");
    let key = "replica-audit/high-replica-count";
    let outcome = set.review(&deployment("prod", 5, json!({})));
    assert!(outcome.violations.is_empty() && outcome.errors.is_empty());
    assert_eq!(
        outcome.audit_annotations.get(key).map(String::as_str),
        Some("over 3, over 4")
    );
    // Only the strict binding's value; the lax one's is null and left out.
    let outcome = set.review(&deployment("prod", 4, json!({})));
    assert_eq!(
        outcome.audit_annotations.get(key).map(String::as_str),
        Some("over 3")
    );
    assert!(set
        .review(&deployment("prod", 2, json!({})))
        .audit_annotations
        .is_empty());
}

#[test]
fn a_namespace_selector_sees_the_name_label_the_api_server_sets() {
    let text = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: no-replicas
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["deployments"]
  validations:
    - expression: "object.spec.replicas == 0"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: no-replicas
spec:
  policyName: no-replicas
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchExpressions:
      - {key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}
"#;
    let loaded = load_str(text, "vap.yaml", &Limits::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let (set, errors) = PolicySet::load(&loaded.objects);
    assert!(errors.is_empty(), "{errors:?}");
    // Neither Namespace is known: the label comes from the namespace's name alone.
    let exempt = set.review(&deployment("kube-system", 2, json!({})));
    assert!(exempt.violations.is_empty(), "{:?}", exempt.violations);
    let denied = set.review(&deployment("apps", 2, json!({})));
    assert_eq!(denied.violations.len(), 1, "{:?}", denied.violations);
}
