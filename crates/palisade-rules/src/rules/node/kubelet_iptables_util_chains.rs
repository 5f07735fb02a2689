use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.6.
    pub struct KubeletIptablesUtilChains;
    checks: Node,
    id: "KLT006",
    slug: "kubelet-iptables-util-chains",
    title: "kubelet does not manage its iptables chains (CIS 4.2.6)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.6: `--make-iptables-util-chains` (`makeIPTablesUtilChains` in the configuration file) of kubelet is set to something other than `true`.",
    rationale: "The kubelet keeps the iptables rules it needs consistent with the network plugin's only when it manages its utility chains.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `makeIPTablesUtilChains: true` (flag `--make-iptables-util-chains=true`) or remove both. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.6")],
    fix: None,
}

impl NodeRule for KubeletIptablesUtilChains {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.6", out);
    }
}
