use palisade_core::rule::{Framework, Reference, Severity};
use palisade_netpol::CheckKind;

use super::{report, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// NetworkPolicy names a port no container defines.
    pub struct UnknownNamedPort;
    checks: Inventory,
    id: "NET007",
    slug: "unknown-named-port",
    title: "NetworkPolicy names a port no container defines",
    severity: Severity::Low,
    category: "network",
    kinds: KINDS,
    summary: "A rule of a NetworkPolicy names a port (`port: http`) that none of the containers it \
applies to defines: the selected pods for an ingress rule, the destination pods in the input \
for an egress rule. Egress rules whose destinations are not in the input are not checked.",
    rationale: "A named port is resolved on each pod; where no container has a port of that name, the rule \
allows nothing. The flow the rule was written for is then blocked, or, when the rule was \
meant to narrow a broader one, the author believes in a restriction that does not exist.",
    remediation: "Use the name the container declares, or the port number:\n\n```yaml\ncontainers:\n- \
name: api\n  ports:\n  - name: http\n    containerPort: 8080\n---\ningress:\n- ports:\n  \
- port: http\n```",
    references: &[
        Reference::new(Framework::NsaCisa, "Network separation and hardening"),
        Reference::new(Framework::Cis, "5.3.2"),
        Reference::url(
            Framework::Docs,
            "Network Policies",
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/",
        ),
    ],
    fix: None,
}

impl InventoryRule for UnknownNamedPort {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        report(inventory, CheckKind::UnknownNamedPort, out);
    }
}
