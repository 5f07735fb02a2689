use palisade_core::rule::{Framework, Reference, Severity};
use palisade_netpol::CheckKind;

use super::{report, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// NetworkPolicy allows all ingress from everywhere.
    pub struct AllowAllIngress;
    checks: Inventory,
    id: "NET004",
    slug: "policy-allows-all-ingress",
    title: "NetworkPolicy allows all ingress from everywhere",
    severity: Severity::Medium,
    category: "network",
    kinds: KINDS,
    summary: "An ingress rule of a NetworkPolicy has no `from` (or an empty one, or an `ipBlock` of \
`0.0.0.0/0`) and no `ports`: it allows every connection from every pod and every address to \
the pods the policy selects.",
    rationale: "Policies are additive: one rule that allows everything cancels every other restriction on the \
same pods, including a namespace's default deny. Such rules are often left over from \
debugging, or written to make a broken application work.",
    remediation: "Allow only the clients and ports the pods serve:\n\n```yaml\nspec:\n  podSelector:\n    \
matchLabels:\n      app: api\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          \
app: frontend\n    ports:\n    - protocol: TCP\n      port: 8080\n```\n\nA public entry point \
should still name its port.",
    references: &[
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::url(
            Framework::Mitre,
            "T1046",
            "https://attack.mitre.org/techniques/T1046/",
        ),
        Reference::new(Framework::Cis, "5.3.2"),
        Reference::url(
            Framework::Docs,
            "Network Policies",
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        ),
    ],
    fix: None,
}

impl InventoryRule for AllowAllIngress {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, CheckKind::AllowAllIngress, out);
    }
}
