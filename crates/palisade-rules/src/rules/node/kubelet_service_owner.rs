use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.2.
    pub struct KubeletServiceOwner;
    checks: Node,
    id: "NDF002",
    slug: "kubelet-service-owner",
    title: "kubelet service file is not owned by root:root (CIS 4.1.2)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.2: `/etc/systemd/system/kubelet.service.d/10-kubeadm.conf` is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`). A missing service file passes.",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/systemd/system/kubelet.service.d/10-kubeadm.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.2")],
    fix: None,
}

impl NodeRule for KubeletServiceOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.2", out);
    }
}
