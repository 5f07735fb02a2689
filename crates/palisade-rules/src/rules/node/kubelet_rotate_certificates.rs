use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.10.
    pub struct KubeletRotateCertificates;
    checks: Node,
    id: "KLT010",
    slug: "kubelet-rotate-certificates",
    title: "kubelet does not rotate its client certificate (CIS 4.2.10)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.10: `--rotate-certificates` (`rotateCertificates` in the configuration file) of kubelet is set to something other than `true`.",
    rationale: "Without rotation the kubelet's client certificate expires, or stays valid long after a compromise.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `rotateCertificates: true` (flag `--rotate-certificates=true`) or remove both. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.10")],
    fix: None,
}

impl NodeRule for KubeletRotateCertificates {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.10", out);
    }
}
