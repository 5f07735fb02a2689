use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.14.
    pub struct KubeletSeccompDefault;
    checks: Node,
    id: "KLT014",
    slug: "kubelet-seccomp-default",
    title: "kubelet does not apply the RuntimeDefault seccomp profile by default (CIS 4.2.14)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.14: `--seccomp-default` (`seccompDefault` in the configuration file) of kubelet is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without `seccompDefault`, containers that set no profile run unconfined, with every system call available to an exploit.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `seccompDefault` (flag `--seccomp-default`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.14")],
    fix: None,
}

impl NodeRule for KubeletSeccompDefault {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.14", out);
    }
}
