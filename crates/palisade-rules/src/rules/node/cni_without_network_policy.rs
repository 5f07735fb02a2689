use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// A network plugin that enforces no NetworkPolicy.
    pub struct CniWithoutNetworkPolicy;
    checks: Node,
    id: "CNI001",
    slug: "cni-without-network-policy",
    title: "The node's CNI plugins do not enforce NetworkPolicy (CIS 5.3.1)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "The CNI configuration the container runtime loads (the first `*.conf`, \
`*.conflist` or `*.json` of `/etc/cni/net.d`, or of the kubelet's `--cni-conf-dir`, in name \
order) chains only plugins that enforce no NetworkPolicy: `flannel`, `bridge`, `ptp`, \
`macvlan`, `ipvlan` and helpers such as `portmap`. Plugins it does not know (a cloud \
provider's, a meta plugin such as Multus) give no finding.",
    rationale: "The API server accepts NetworkPolicies whatever the network plugin does with \
them: with one that ignores them, every policy of the cluster is silently void, and every pod can \
reach every other.",
    remediation: "Use a network plugin that enforces NetworkPolicy (Calico, Cilium, Antrea, \
kube-router, Weave Net), or add one to the existing plugin, for example Canal (Calico's policy \
engine over flannel).",
    references: &[
        Reference::new(Framework::Cis, "5.3.1"),
        Reference::url(
            Framework::Docs,
            "Network Policies: prerequisites",
            "https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites",
        ),
    ],
    fix: None,
}

impl NodeRule for CniWithoutNetworkPolicy {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        let Some(cni) = &cx.audit.cni else {
            return;
        };
        if cni.network_policy == Some(false) {
            out.push(NodeEmit {
                location: cni.location.clone(),
                message: format!(
                    "the CNI plugins in use ({}) enforce no NetworkPolicy: every NetworkPolicy of the cluster is ignored",
                    cni.types.join(", ")
                ),
                severity: None,
            });
        }
    }
}
