use palisade_core::pointer::At;
use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use super::is_allow_policy;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// ALLOW policies whose source, operation and condition sit in separate rules.
    pub struct SplitRuleConditions;
    checks: Object,
    id: "MESH001",
    slug: "authz-split-rule",
    title: "AuthorizationPolicy splits from, to and when into separate rules",
    severity: Severity::High,
    category: "mesh",
    kinds: &["AuthorizationPolicy"],
    summary: "An Istio ALLOW `AuthorizationPolicy` has a rule that holds only `from` (who) and \
another that holds only `to` (what). A `from`-only rule next to a `when`-only rule is a common, \
deliberate pair of alternatives (\"from the gateway, or with a token\") and is not reported.",
    rationale: "Rules are ORed, the fields inside one rule are ANDed. Written as separate list \
items (`- from:`, `- to:`, `- when:`), the policy allows any caller that matches one of them: \
the `to` rule alone lets every source call those paths, and the `from` rule lets that source \
call everything. The security guides show exactly this shape.",
    remediation: "Put the conditions in one rule, without the extra dashes:\n\n```yaml\nrules:\n\
- from:\n  - source:\n      principals: [cluster.local/ns/shop/sa/frontend]\n  to:\n  - operation:\n      \
methods: [GET, POST]\n  when:\n  - key: request.headers[authorization]\n    values: [\"Bearer *\"]\n```",
    references: &[
        Reference::url(
            Framework::Docs,
            "Istio authorization policy: rules",
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

const PARTS: [&str; 3] = ["from", "to", "when"];

/// The only condition a rule holds, if it holds exactly one.
fn single_part(rule: &Value) -> Option<&'static str> {
    let present: Vec<&str> = PARTS
        .into_iter()
        .filter(|p| rule.get(*p).is_some_and(|v| !v.is_null()))
        .collect();
    match present.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

impl ObjectRule for SplitRuleConditions {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if !is_allow_policy(cx.object) {
            return;
        }
        let Some(Value::Array(rules)) = cx.object.value.at("/spec/rules") else {
            return;
        };
        let singles: Vec<(usize, &str)> = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| single_part(r).map(|p| (i, p)))
            .collect();
        let find = |part: &str| singles.iter().find(|(_, p)| *p == part).map(|(i, _)| *i);
        let (Some(from), Some(to)) = (find("from"), find("to")) else {
            return;
        };
        let (first, first_part, index, part) = if from < to {
            (from, "from", to, "to")
        } else {
            (to, "to", from, "from")
        };
        out.push(Emit::new(
            format!("/spec/rules/{index}"),
            format!(
                "rule {index} holds only `{part}` and rule {first} only `{first_part}`: rules are ORed, so each allows requests the other was meant to restrict; put them in one rule"
            ),
        ));
    }
}
