use palisade_core::rule::{Framework, Reference, Severity};
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, permission, report, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// Secrets readable.
    pub struct SecretsRead;
    checks: Inventory,
    id: "RBAC001",
    slug: "rbac-secrets-read",
    title: "Role can read secrets",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A rule allows `get`, `list` or `watch` on `secrets` without restricting \
`resourceNames`.",
        scoped_note!(),
        wildcard_note!()
    ),
    rationale: "Secrets hold credentials: service-account tokens, TLS keys, registry and \
cloud credentials. `list` and `watch` return the content of every secret, so whoever holds \
the role (or steals the token of a service account bound to it) can act as every service \
account whose token is stored in the scope and reach external systems.",
    remediation: "Grant access to named secrets only (`resourceNames`), mount the secrets \
a workload needs instead of reading them through the API, and bind cluster-wide read of \
secrets to no one but the controllers that cannot work without it.",
    references: &[
        Reference::new(Framework::Cis, "5.1.2"),
        mitre(
            "T1552.007",
            "https://attack.mitre.org/techniques/T1552/007/",
        ),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for SecretsRead {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::SecretsRead, out);
    }
}

impl Judge for SecretsRead {
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        permission(self.meta(), "read secrets", fact)
    }
}
