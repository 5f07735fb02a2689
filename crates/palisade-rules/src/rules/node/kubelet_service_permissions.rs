use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.1.
    pub struct KubeletServicePermissions;
    checks: Node,
    id: "NDF001",
    slug: "kubelet-service-permissions",
    title: "kubelet service file is readable or writable by others (CIS 4.1.1)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.1: the mode of `/etc/systemd/system/kubelet.service.d/10-kubeadm.conf` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "The kubelet's systemd unit holds its flags; whoever can change it changes how the kubelet authenticates and authorizes.",
    remediation: "On the node, run `chmod 600 /etc/systemd/system/kubelet.service.d/10-kubeadm.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.1")],
    fix: None,
}

impl NodeRule for KubeletServicePermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.1", out);
    }
}
