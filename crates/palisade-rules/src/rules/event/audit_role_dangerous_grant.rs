use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use super::{target, who};
use crate::{declare_rule, Emit, EventCx, EventRule};

declare_rule! {
    /// A Role or ClusterRole created with a wildcard or with exec into pods.
    pub struct RoleDangerousGrant;
    checks: Event,
    id: "EVT013",
    slug: "audit-role-dangerous-grant",
    title: "Role created with a wildcard or pod exec",
    severity: Severity::Medium,
    category: "event",
    kinds: &["Event"],
    summary: "A successful create of a Role or ClusterRole whose rules grant `*` resources or \
verbs, or `pods/exec` (Falco: `ClusterRole With Wildcard Created`, `ClusterRole With Pod Exec \
Created`).",
    rationale: "A wildcard grants every current and future resource or verb, secrets and \
escalation verbs included; `pods/exec` is a shell in every pod the role reaches. Either is a \
path to cluster-admin when bound.",
    remediation: "List the resources and verbs the role needs instead (`palisade rbac` shows \
what a subject can do), and keep `pods/exec` to debugging roles.",
    references: &[
        Reference::new(Framework::Cis, "5.1.3"),
        Reference::url(Framework::Mitre, "T1098", "https://attack.mitre.org/techniques/T1098/"),
    ],
    fix: None,
}

fn strings(rule: &Value, key: &str) -> Vec<String> {
    rule.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

impl EventRule for RoleDangerousGrant {
    fn check_event(&self, cx: &EventCx<'_>, out: &mut Vec<Emit>) {
        let req = &cx.request;
        if !(req.complete()
            && req.succeeded()
            && req.verb() == "create"
            && matches!(req.resource(), "roles" | "clusterroles"))
        {
            return;
        }
        let Some(rules) = req
            .request_object()
            .and_then(|o| o.get("rules"))
            .and_then(Value::as_array)
        else {
            return;
        };
        for (i, rule) in rules.iter().enumerate() {
            let resources = strings(rule, "resources");
            let verbs = strings(rule, "verbs");
            let grant = if resources.iter().any(|r| r == "*") || verbs.iter().any(|v| v == "*") {
                "a wildcard"
            } else if resources.iter().any(|r| r == "pods/exec") {
                "exec into pods"
            } else {
                continue;
            };
            out.push(Emit::new(
                format!("/requestObject/rules/{i}"),
                format!("{} created role {} granting {grant}", who(req), target(req)),
            ));
        }
    }
}
