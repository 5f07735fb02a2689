use palisade_core::rule::Severity;
use palisade_rbac::{RiskFact, RiskKind};

use super::{mitre, report, where_, Judge, KINDS, RBAC_DOCS};
use crate::{declare_rule, Emit, Inventory, InventoryRule, Rule};

declare_rule! {
    /// CSR approval or signing.
    pub struct CsrApprove;
    checks: Inventory,
    id: "RBAC008",
    slug: "rbac-csr-approve",
    title: "Role can approve or sign certificate signing requests",
    severity: Severity::High,
    category: "rbac",
    kinds: KINDS,
    summary: concat!(
        "A ClusterRole allows both halves of issuing a certificate: `update` or \
`patch` of `certificatesigningrequests/approval` with `approve` on `signers`, or of \
`certificatesigningrequests/status` with `sign` on `signers`. Reported at the rule on \
`signers`; high when it covers the API server's client signers (`kubernetes.io/*`), low \
when it names only other signers.",
        wildcard_note!()
    ),
    rationale: "Approving a CSR for the `kube-apiserver-client` signer issues a client \
certificate for any user or group, `system:masters` included; signing lets the holder issue \
certificates itself.",
    remediation: "Restrict `approve` and `sign` with `resourceNames` to the signers the \
controller serves; never approve `kubernetes.io/kube-apiserver-client` automatically.",
    references: &[
        crate::Reference::new(crate::Framework::Cis, "5.1.11"),
        mitre("T1649", "https://attack.mitre.org/techniques/T1649/"),
        RBAC_DOCS,
    ],
    fix: None,
}

impl InventoryRule for CsrApprove {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, RiskKind::CsrApprove, out);
    }
}

impl Judge for CsrApprove {
    /// High when a grant covers the API server's own signers, low when it names only others.
    fn judge(&self, fact: &RiskFact) -> Option<(String, Severity)> {
        let RiskFact::CsrApprove {
            role,
            scope,
            grants,
        } = fact
        else {
            return None;
        };
        let what: Vec<String> = grants
            .iter()
            .map(|grant| {
                let of = if grant.signers.is_empty() {
                    "every signer".to_owned()
                } else {
                    format!("signers {:?}", grant.signers)
                };
                format!(
                    "{} certificates of {of} (with {} updates)",
                    grant.verb, grant.subresource
                )
            })
            .collect();
        let severity = if grants.iter().any(|g| g.covers_cluster_signers()) {
            self.meta().severity
        } else {
            Severity::Low
        };
        Some((
            format!("{role} can {} {}", what.join(" and "), where_(scope)),
            severity,
        ))
    }
}
