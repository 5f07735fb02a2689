use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use super::is_allow_policy;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// ALLOW policies with a rule that matches every request.
    pub struct AllowEmptyRule;
    checks: Object,
    id: "MESH002",
    slug: "authz-allow-all",
    title: "AuthorizationPolicy allows every request",
    severity: Severity::High,
    category: "mesh",
    kinds: &["AuthorizationPolicy"],
    summary: "An Istio ALLOW `AuthorizationPolicy` has an empty rule (`rules: [{}]`), which \
matches every request. High when the policy has no workload selector, so that it opens every \
workload of its namespace, or of the whole mesh in the root namespace (`istio-system` by \
default); medium when a `selector.matchLabels` or a `targetRef`/`targetRefs` limits it to the \
workloads it names, the usual way to open one workload (the ingress gateway, a webhook the API \
server must reach) that a namespace- or mesh-wide deny-all would otherwise block.",
    rationale: "An empty rule has no conditions, so it matches any source, any operation, any \
request. Once it applies to a workload, every other ALLOW policy on it stops restricting \
anything; without a selector it applies to every workload in reach. It is easy to write by accident (`- {}`, or a rule whose fields were commented out).",
    remediation: "Give the rule `from`, `to` or `when` conditions. To deny everything, use an \
ALLOW policy without rules (`spec: {}`); to allow everything on purpose, suppress the finding \
with a reason.",
    references: &[
        Reference::url(
            Framework::Docs,
            "Istio authorization policy: allow-all and deny-all",
            "https://istio.io/latest/docs/reference/config/security/authorization-policy/",
        ),
        Reference::url(
            Framework::Mitre,
            "T1190",
            "https://attack.mitre.org/techniques/T1190/",
        ),
    ],
    fix: None,
}

fn is_empty_rule(rule: &Value) -> bool {
    match rule {
        Value::Null => true,
        Value::Object(map) => map.values().all(|v| match v {
            Value::Null => true,
            Value::Array(items) => items.is_empty(),
            Value::Object(inner) => inner.is_empty(),
            _ => false,
        }),
        _ => false,
    }
}

/// Whether the policy applies only to the workloads it names: a non-empty
/// `selector.matchLabels`, or a `targetRef` or non-empty `targetRefs`. Without them it applies
/// to every workload of its namespace.
fn selects_workloads(object: &palisade_core::Object) -> bool {
    let non_empty = |pointer: &str| match object.value.at(pointer) {
        Some(Value::Object(map)) => !map.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    };
    non_empty("/spec/selector/matchLabels")
        || non_empty("/spec/targetRef")
        || non_empty("/spec/targetRefs")
}

impl ObjectRule for AllowEmptyRule {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if !is_allow_policy(cx.object) {
            return;
        }
        let Some(Value::Array(rules)) = cx.object.value.at("/spec/rules") else {
            return;
        };
        let Some(index) = rules.iter().position(is_empty_rule) else {
            return;
        };
        let pointer = format!("/spec/rules/{index}");
        if selects_workloads(cx.object) {
            out.push(
                Emit::new(
                    pointer,
                    "ALLOW policy has an empty rule, which allows every request to the workloads it selects; make sure they are meant to be open to anyone, or add from/to/when conditions",
                )
                .with_severity(Severity::Medium),
            );
        } else {
            out.push(Emit::new(
                pointer,
                "ALLOW policy without a selector has an empty rule, which allows every request to every workload of its namespace (of the mesh, in the root namespace); add from/to/when conditions or a selector",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use palisade_core::rule::Severity;
    use palisade_core::{load_str, Limits};

    use crate::Engine;

    #[test]
    fn a_selector_lowers_the_severity_and_no_selector_keeps_it_high() {
        let policy = |scope: &str| {
            format!(
                "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: p, namespace: istio-system}}\nspec:\n{scope}  rules:\n  - {{}}\n"
            )
        };
        let engine = Engine::new(&crate::Config::default(), &["MESH002".to_owned()], &[])
            .expect("MESH002 exists");
        let severity = |scope: &str| {
            let loaded = load_str(&policy(scope), "p.yaml", &Limits::default());
            let findings = engine.check_object(&loaded.objects[0]);
            assert_eq!(findings.len(), 1, "{scope}");
            findings[0].severity
        };
        assert_eq!(severity(""), Severity::High);
        assert_eq!(severity("  selector: {}\n"), Severity::High);
        assert_eq!(severity("  selector: {matchLabels: {}}\n"), Severity::High);
        assert_eq!(
            severity("  selector: {matchLabels: {istio: ingressgateway}}\n"),
            Severity::Medium
        );
        assert_eq!(
            severity(
                "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]\n"
            ),
            Severity::Medium
        );
    }
}
