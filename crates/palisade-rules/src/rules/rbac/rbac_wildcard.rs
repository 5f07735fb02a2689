use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind, WildcardShape};

use super::{report, scoped, where_, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Wildcard verbs or resources.
    pub struct Wildcard;
    checks: Inventory,
    id: "RBAC010",
    slug: "rbac-wildcard",
    title: "Role uses wildcard verbs or resources",
    severity: Severity::Medium,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule has `*` in `verbs` or `resources`. With `*` in verbs, groups and \
resources it is equivalent to cluster-admin in its scope: one critical finding of this rule \
(high where confined to namespaces), which stands for everything it implies. Listed verbs on `*` \
resources of every group are high; `*` resources of named groups are medium; `*` verbs on named \
resources are low. Wildcards confined to API groups that are not Kubernetes' own (custom \
resources) are reported as info.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "Wildcards grant every present and future verb, resource and subresource \
(exec, secrets, escalate, impersonate included), so the role grows with every API added to \
the cluster.",
    remediation: "List the verbs and resources the subject needs.",
    references: &[Reference::new(Framework::Cis, "5.1.3"), RBAC_DOCS],
    fix: None,
}

impl InventoryRule for Wildcard {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::Wildcard, out);
    }
}

impl Judge for Wildcard {
    /// Every verb on every resource of every group is cluster-admin (critical); `*` resources of
    /// every group high; custom-resource groups only info; other `*` resources medium and `*`
    /// verbs low; each a step lower in namespaces.
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::Wildcard {
            role,
            scope,
            shape,
            groups,
            verbs,
            resources,
            custom_only,
        } = fact
        else {
            return None;
        };
        let where_ = where_(scope);
        if *shape == WildcardShape::Everything {
            return Some((
                format!(
                    "{role} allows every verb on every resource {where_}: equivalent to \
                         cluster-admin there"
                ),
                scoped(scope, Severity::Critical),
            ));
        }
        let severity = if shape.all_resources() && groups.iter().any(|g| g == "*") {
            Severity::High
        } else if *custom_only {
            Severity::Info
        } else if shape.all_resources() {
            self.meta().severity
        } else {
            Severity::Low
        };
        let what = match shape {
            WildcardShape::Everything | WildcardShape::VerbsAndResources => {
                "every verb on every resource".to_owned()
            }
            WildcardShape::Resources => format!("{} on every resource", verbs.join(", ")),
            WildcardShape::Verbs => format!("every verb on {}", resources.join(", ")),
        };
        Some((
            format!(
                "{role} grants {what} of groups {groups:?} {where_}{}",
                if *custom_only {
                    " (custom resources only)"
                } else {
                    ""
                }
            ),
            scoped(scope, severity),
        ))
    }
}
