use palisade_core::patch::PatchOp;
use palisade_core::rule::{Applicability, Fix, FixSafety, Framework, Reference, Severity};
use serde_json::{json, Value};

use super::{policy_rules, restricts};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Audit policies that write secret values into the audit log.
    pub struct SensitiveBodies;
    checks: Object,
    id: "AUD001",
    slug: "audit-logs-secret-bodies",
    title: "Audit policy logs the bodies of Secrets, ConfigMaps or token reviews",
    severity: Severity::High,
    category: "audit",
    kinds: &["Policy"],
    summary: "The first rules of an `audit.k8s.io` `Policy` that match `secrets`, `configmaps` \
(core group) or `tokenreviews` (`authentication.k8s.io`) log them at `Request` or \
`RequestResponse` (rules are evaluated in order; the first that matches a request decides).",
    rationale: "At `Request` and `RequestResponse` the audit log stores request and response \
bodies: every Secret value read or written, ConfigMaps with embedded credentials, and the bearer \
token in every TokenReview. The audit log becomes the easiest place to steal credentials from, \
usually shipped to a log system with far wider access than the cluster's Secrets.",
    remediation: "Log these resources at `Metadata`, in a rule placed before the detailed \
ones:\n\n```yaml\n- level: Metadata\n  resources:\n  - group: \"\"\n    resources: [secrets, \
configmaps]\n  - group: authentication.k8s.io\n    resources: [tokenreviews]\n```",
    references: &[
        Reference::new(Framework::Cis, "3.2.1"),
        Reference::new(Framework::NsaCisa, "Audit logging and threat detection"),
        Reference::url(
            Framework::Mitre,
            "T1552",
            "https://attack.mitre.org/techniques/T1552/",
        ),
    ],
    fix: Some(FixSafety {
        applicability: Some(Applicability::Safe),
        reason: "The fix changes an audit policy, not a workload: Secrets, ConfigMaps and TokenReviews \
are then recorded without their bodies.",
    }),
}

/// (API group, resource) pairs whose bodies hold credentials.
const SENSITIVE: &[(&str, &str)] = &[
    ("", "secrets"),
    ("", "configmaps"),
    ("authentication.k8s.io", "tokenreviews"),
];

/// How a rule matches a resource: not at all, for some requests, or for every request.
#[derive(PartialEq, Eq)]
enum Match {
    No,
    Some,
    All,
}

fn resource_matches(pattern: &str, resource: &str) -> bool {
    pattern == "*"
        || pattern == resource
        || pattern
            .strip_suffix("/*")
            .is_some_and(|base| base == resource)
}

fn matches(rule: &Value, group: &str, resource: &str) -> Match {
    let conditional = ["users", "userGroups", "verbs", "namespaces"]
        .iter()
        .any(|f| restricts(rule, f));
    let whole = |narrowed: bool| {
        if conditional || narrowed {
            Match::Some
        } else {
            Match::All
        }
    };
    match rule.get("resources") {
        Some(Value::Array(entries)) if !entries.is_empty() => {
            let mut best = Match::No;
            for entry in entries {
                let entry_group = entry.get("group").and_then(Value::as_str).unwrap_or("");
                if entry_group != group && entry_group != "*" {
                    continue;
                }
                let names = restricts(entry, "resourceNames");
                let hit = match entry.get("resources") {
                    Some(Value::Array(list)) if !list.is_empty() => list
                        .iter()
                        .filter_map(Value::as_str)
                        .any(|p| resource_matches(p, resource)),
                    _ => true,
                };
                if hit {
                    match whole(names) {
                        Match::All => return Match::All,
                        m => best = m,
                    }
                }
            }
            best
        }
        _ if restricts(rule, "nonResourceURLs") => Match::No,
        _ => whole(false),
    }
}

impl ObjectRule for SensitiveBodies {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(rules) = policy_rules(cx.object) else {
            return;
        };
        // For each rule, the sensitive resources whose bodies it logs.
        let mut leaks: Vec<(usize, Vec<(&str, &str)>)> = Vec::new();
        for &(group, resource) in SENSITIVE {
            for (index, rule) in rules.iter().enumerate() {
                let found = matches(rule, group, resource);
                if found == Match::No {
                    continue;
                }
                let level = rule.get("level").and_then(Value::as_str).unwrap_or("");
                if matches!(level, "Request" | "RequestResponse") {
                    match leaks.iter_mut().find(|(i, _)| *i == index) {
                        Some((_, list)) => list.push((group, resource)),
                        None => leaks.push((index, vec![(group, resource)])),
                    }
                }
                if found == Match::All {
                    break;
                }
            }
        }
        leaks.sort_by_key(|(index, _)| *index);
        let Some(first) = leaks.first().map(|(index, _)| *index) else {
            return;
        };
        let mut all: Vec<(&str, &str)> = leaks.iter().flat_map(|(_, l)| l.clone()).collect();
        all.sort();
        all.dedup();
        let fix = cx.fix(|| metadata_rule_fix(first, &all));
        for (position, (index, list)) in leaks.iter().enumerate() {
            let level = rules[*index]
                .get("level")
                .and_then(Value::as_str)
                .unwrap_or("");
            let names: Vec<&str> = list.iter().map(|(_, r)| *r).collect();
            let emit = Emit::new(
                format!("/rules/{index}/level"),
                format!(
                    "rule {index} logs the bodies of {} at level {level}, writing credentials into the audit log; log them at Metadata in an earlier rule",
                    names.join(", ")
                ),
            );
            // One fix covers every leaking rule: it is carried by the first finding.
            out.push(if position == 0 {
                emit.with_fix(fix.clone())
            } else {
                emit
            });
        }
    }
}

/// Inserts, before the first leaking rule, a rule that logs the sensitive resources at
/// `Metadata`.
fn metadata_rule_fix(index: usize, resources: &[(&str, &str)]) -> Option<Fix> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for &(group, resource) in resources {
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, list)) => list.push(resource),
            None => groups.push((group, vec![resource])),
        }
    }
    let entries: Vec<Value> = groups
        .into_iter()
        .map(|(group, list)| json!({"group": group, "resources": list}))
        .collect();
    Some(Fix {
        description:
            "log Secrets, ConfigMaps and TokenReviews at Metadata before the detailed rules"
                .to_owned(),
        patch: vec![PatchOp::Add {
            path: format!("/rules/{index}"),
            value: json!({"level": "Metadata", "resources": entries}),
        }],
        applicability: Applicability::Safe,
    })
}
