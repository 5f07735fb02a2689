use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.7.
    pub struct KubeletHostnameOverride;
    checks: Node,
    id: "KLT007",
    slug: "kubelet-hostname-override",
    title: "kubelet overrides its hostname (CIS 4.2.7)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.7: `--hostname-override` of kubelet is set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "A hostname override breaks the match between the node's name and its TLS certificate, which the API server relies on to talk to the right kubelet.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), remove `--hostname-override`. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.7")],
    fix: None,
}

impl NodeRule for KubeletHostnameOverride {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.7", out);
    }
}
