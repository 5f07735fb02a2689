use palisade_core::rule::{Framework, Reference, Severity};
use palisade_netpol::CheckKind;

use super::{report, KINDS};
use crate::{declare_rule, Emit, Inventory, InventoryRule};

declare_rule! {
    /// NetworkPolicy allows egress to the cloud metadata service.
    pub struct MetadataEgress;
    checks: Inventory,
    id: "NET005",
    slug: "egress-to-metadata-allowed",
    title: "NetworkPolicy allows egress to the cloud metadata service",
    severity: Severity::High,
    category: "network",
    kinds: KINDS,
    summary:
        "An egress rule allows TCP port 80 (no port restriction, or a port range containing 80) to \
`169.254.169.254`: either it has no `to` at all (reported with medium severity: the rule opens \
every destination), or one of its `ipBlock`s contains the address and does not except it.",
    rationale:
        "The metadata service hands the node's cloud credentials (and, on some clouds, bootstrap \
secrets) to whoever asks from the node's network. A pod that can reach it can take over the \
node's cloud identity: the usual next step of a server-side request forgery.",
    remediation:
        "Except the metadata address from broad egress rules:\n\n```yaml\negress:\n- to:\n  - \
ipBlock:\n      cidr: 0.0.0.0/0\n      except:\n      - 169.254.169.254/32\n```\n\nand give \
workloads their own cloud identity (workload identity, IRSA) instead of the node's.",
    references: &[
        Reference::url(
            Framework::Mitre,
            "T1552.005",
            "https://attack.mitre.org/techniques/T1552/005/",
        ),
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

impl InventoryRule for MetadataEgress {
    fn check_inventory(&self, inventory: &Inventory<'_>, out: &mut Vec<(usize, Emit)>) {
        let start = out.len();
        report(inventory, CheckKind::MetadataEgress, out);
        // A rule open to every destination reaches the metadata address as a side effect; an
        // address block that contains it was written to include it.
        for (_, emit) in &mut out[start..] {
            if !emit.pointer.ends_with("/ipBlock") {
                emit.severity = Some(Severity::Medium);
            }
        }
    }
}
