use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.4.
    pub struct KubeletReadOnlyPort;
    checks: Node,
    id: "KLT004",
    slug: "kubelet-read-only-port",
    title: "kubelet serves its read-only port (CIS 4.2.4)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.4: `--read-only-port` (`readOnlyPort` in the configuration file) of kubelet is set to something other than `0`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "The read-only port (10255) serves pod specs, environment variables included, and metrics without any authentication.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `readOnlyPort: 0` (flag `--read-only-port=0`) or remove both. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.4")],
    fix: None,
}

impl NodeRule for KubeletReadOnlyPort {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.4", out);
    }
}
