use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.1.
    pub struct KubeletAnonymousAuth;
    checks: Node,
    id: "KLT001",
    slug: "kubelet-anonymous-auth",
    title: "kubelet accepts anonymous requests (CIS 4.2.1)",
    severity: Severity::Critical,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.1: `--anonymous-auth` (`authentication.anonymous.enabled` in the configuration file) of kubelet is not set to `false`.",
    rationale: "The kubelet API runs commands in containers and reads their logs; anonymous access to it, with a permissive authorization mode, is remote code execution on every pod of the node.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `authentication.anonymous.enabled: false` (flag `--anonymous-auth=false`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.1")],
    fix: None,
}

impl NodeRule for KubeletAnonymousAuth {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.1", out);
    }
}
