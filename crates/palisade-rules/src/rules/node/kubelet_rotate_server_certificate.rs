use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.11.
    pub struct KubeletRotateServerCertificate;
    checks: Node,
    id: "KLT011",
    slug: "kubelet-rotate-server-certificate",
    title: "kubelet disables serving certificate rotation (CIS 4.2.11)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.11: the feature gate `RotateKubeletServerCertificate` (`featureGates.RotateKubeletServerCertificate` in the configuration file) of kubelet includes `false`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Serving certificates that are never rotated stay valid long after a compromise.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `RotateKubeletServerCertificate: true` under `featureGates`, or remove `RotateKubeletServerCertificate=false` from `--feature-gates`. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.11")],
    fix: None,
}

impl NodeRule for KubeletRotateServerCertificate {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.11", out);
    }
}
