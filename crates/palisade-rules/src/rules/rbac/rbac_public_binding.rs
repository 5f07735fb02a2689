use palisade_core::rule::Severity;
use palisade_rbac::{PublicSubject, RiskFact, RiskKind};

use super::{lower, mitre, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Binding to anonymous, unauthenticated or every authenticated user.
    pub struct PublicBinding;
    checks: Inventory,
    id: "RBAC012",
    slug: "rbac-public-binding",
    title: "Binding grants permissions to anonymous or all users",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: "A binding has the subject `system:anonymous`, `system:unauthenticated`, \
`system:authenticated` or `system:serviceaccounts`. Roles that only read public \
information are not reported; roles that only read named objects other than secrets are \
reported as info.",
    rationale: "These identities include everyone who can reach the API server (anonymous \
requests), everyone with any credential (every user and every service account of every \
workload), or every service account: the permissions are effectively public.",
    remediation: "Bind the role to the users, groups or service accounts that need it.",
    references: &[
        mitre(
            "T1078.001",
            "https://attack.mitre.org/techniques/T1078/001/",
        ),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for PublicBinding {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::PublicBinding, out);
    }
}

impl Judge for PublicBinding {
    /// Anonymous requests are the rule's severity, every user or every service account a step
    /// lower, and a role that only reads named objects info.
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::PublicBinding {
            binding,
            role_ref,
            subject,
            public,
            reads_named_only,
        } = fact
        else {
            return None;
        };
        let (severity, who) = match public {
            PublicSubject::Anonymous => (self.meta().severity, "every anonymous request"),
            PublicSubject::Authenticated => (
                lower(self.meta().severity),
                "every user and service account",
            ),
            PublicSubject::ServiceAccounts => (
                lower(self.meta().severity),
                "every service account of the cluster",
            ),
        };
        Some((
            format!(
                "{binding} grants {} {} to {who} ({subject}){}",
                role_ref.kind,
                role_ref.name,
                if *reads_named_only {
                    ", which only reads named objects"
                } else {
                    ""
                }
            ),
            if *reads_named_only {
                Severity::Info
            } else {
                severity
            },
        ))
    }
}
