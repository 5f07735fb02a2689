use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.14.
    pub struct AdminKubeconfigOwner;
    checks: Node,
    id: "CPF014",
    slug: "admin-kubeconfig-owner",
    title: "Administrator kubeconfig is not owned by root:root (CIS 1.1.14)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.14: `/etc/kubernetes/admin.conf` or `/etc/kubernetes/super-admin.conf` (where present) is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.14")],
    fix: None,
}

impl NodeRule for AdminKubeconfigOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.14", out);
    }
}
