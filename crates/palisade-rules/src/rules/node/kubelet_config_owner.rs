use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.10.
    pub struct KubeletConfigOwner;
    checks: Node,
    id: "NDF010",
    slug: "kubelet-config-owner",
    title: "kubelet configuration file is not owned by root:root (CIS 4.1.10)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.10: `/var/lib/kubelet/config.yaml` is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /var/lib/kubelet/config.yaml`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.10")],
    fix: None,
}

impl NodeRule for KubeletConfigOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.10", out);
    }
}
