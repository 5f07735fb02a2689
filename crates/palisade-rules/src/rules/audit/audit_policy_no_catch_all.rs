use palisade_core::rule::{Applicability, FixSafety, Framework, Reference, Severity};
use serde_json::json;

use super::{policy_rules, restricts};
use crate::rules::util::append_fix;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Audit policies that let unmatched requests go unrecorded.
    pub struct MissingCatchAll;
    checks: Object,
    id: "AUD002",
    slug: "audit-policy-no-catch-all",
    title: "Audit policy has no catch-all rule",
    severity: Severity::Medium,
    category: "audit",
    kinds: &["Policy"],
    summary: "An `audit.k8s.io` `Policy` has no rule without `users`, `userGroups`, `verbs`, \
`namespaces`, `resources` or `nonResourceURLs` restrictions.",
    rationale: "Requests that match no rule are not logged at all. A policy that lists only \
the resources someone thought of misses the rest: a new CRD holding credentials, `pods/exec` in \
another namespace, an attacker's reconnaissance.",
    remediation: "End the policy with a rule that matches everything else, at `Metadata`:\n\n\
```yaml\n- level: Metadata\n  omitStages: [RequestReceived]\n```",
    references: &[
        Reference::new(Framework::Cis, "3.2.2"),
        Reference::new(Framework::NsaCisa, "Audit logging and threat detection"),
        Reference::url(
            Framework::Mitre,
            "T1562.008",
            "https://attack.mitre.org/techniques/T1562/008/",
        ),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Safe),
        reason: "The fix changes an audit policy, not a workload: the API server then also records, at \
`Metadata`, the requests no rule listed.",
    }),
}

const RESTRICTIONS: &[&str] = &[
    "users",
    "userGroups",
    "verbs",
    "namespaces",
    "resources",
    "nonResourceURLs",
];

impl ObjectRule for MissingCatchAll {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        if cx.object.group() != "audit.k8s.io" || cx.object.kind() != "Policy" {
            return;
        }
        let rules = policy_rules(cx.object);
        if rules.is_some_and(|rules| {
            rules
                .iter()
                .any(|r| !RESTRICTIONS.iter().any(|f| restricts(r, f)))
        }) {
            return;
        }
        let fix = cx.fix(|| {
            append_fix(
                cx.object,
                "/rules",
                json!({"level": "Metadata", "omitStages": ["RequestReceived"]}),
                "append a catch-all rule at level Metadata".to_owned(),
                Applicability::Safe,
            )
        });
        out.push(
            Emit::new(
                "/rules",
                "audit policy has no catch-all rule, so requests it does not list go unlogged; end it with `- level: Metadata`",
            )
            .with_fix(fix),
        );
    }
}
