use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.13.
    pub struct KubeletPodPidsLimit;
    checks: Node,
    id: "KLT013",
    slug: "kubelet-pod-pids-limit",
    title: "kubelet does not limit the PIDs of a pod (CIS 4.2.13)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.13: `--pod-max-pids` (`podPidsLimit` in the configuration file) of kubelet is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "A pod without a PID limit can fork until the node runs out of process IDs and every other pod fails.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `podPidsLimit` (flag `--pod-max-pids`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.13")],
    fix: None,
}

impl NodeRule for KubeletPodPidsLimit {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.13", out);
    }
}
