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
matches every request.",
    rationale: "An empty rule has no conditions, so it matches any source, any operation, any \
request. Once it applies to a workload, every other ALLOW policy on it stops restricting \
anything. It is easy to write by accident (`- {}`, or a rule whose fields were commented out).",
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

impl ObjectRule for AllowEmptyRule {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if !is_allow_policy(cx.object) {
            return;
        }
        let Some(Value::Array(rules)) = cx.object.value.at("/spec/rules") else {
            return;
        };
        if let Some(index) = rules.iter().position(is_empty_rule) {
            out.push(Emit::new(
                format!("/spec/rules/{index}"),
                "ALLOW policy has an empty rule, which allows every request; add from/to/when conditions",
            ));
        }
    }
}
