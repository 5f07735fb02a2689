use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.2.
    pub struct KubeletAuthorizationAlwaysAllow;
    checks: Node,
    id: "KLT002",
    slug: "kubelet-authorization-always-allow",
    title: "kubelet authorizes every request (AlwaysAllow) (CIS 4.2.2)",
    severity: Severity::Critical,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.2: `--authorization-mode` (`authorization.mode` in the configuration file) of kubelet includes `AlwaysAllow`.",
    rationale: "With `AlwaysAllow` any client the kubelet authenticates can exec into every container of the node.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), remove `AlwaysAllow` from `--authorization-mode` (`authorization.mode`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.2")],
    fix: None,
}

impl NodeRule for KubeletAuthorizationAlwaysAllow {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.2", out);
    }
}
