use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.5.
    pub struct KubeletKubeconfigPermissions;
    checks: Node,
    id: "NDF005",
    slug: "kubelet-kubeconfig-permissions",
    title: "kubelet kubeconfig is readable or writable by others (CIS 4.1.5)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.5: the mode of `/etc/kubernetes/kubelet.conf` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "The kubeconfig holds a client certificate and key with the component's privileges; a local user who can read it acts as the component against the API server.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/kubelet.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.5")],
    fix: None,
}

impl NodeRule for KubeletKubeconfigPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.5", out);
    }
}
