use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.8.
    pub struct KubeletEventQps;
    checks: Node,
    id: "KLT008",
    slug: "kubelet-event-qps",
    title: "kubelet event record rate is negative (CIS 4.2.8)",
    severity: Severity::Info,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.8: `--event-qps` (`eventRecordQPS` in the configuration file) of kubelet is below 0. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Events the kubelet drops are missing from the record an investigation relies on.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `--event-qps=0` or more. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.8")],
    fix: None,
}

impl NodeRule for KubeletEventQps {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.8", out);
    }
}
