use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.5.
    pub struct KubeletStreamingIdleTimeout;
    checks: Node,
    id: "KLT005",
    slug: "kubelet-streaming-idle-timeout",
    title: "kubelet never closes idle streaming connections (CIS 4.2.5)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.5: `--streaming-connection-idle-timeout` (`streamingConnectionIdleTimeout` in the configuration file) of kubelet is `0`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without an idle timeout, forgotten `exec` and `port-forward` sessions stay open and exhaust the node.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `--streaming-connection-idle-timeout` to a value other than `0` (`streamingConnectionIdleTimeout`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.5")],
    fix: None,
}

impl NodeRule for KubeletStreamingIdleTimeout {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.5", out);
    }
}
