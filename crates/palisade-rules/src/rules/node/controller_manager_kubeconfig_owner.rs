use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.18.
    pub struct ControllerManagerKubeconfigOwner;
    checks: Node,
    id: "CPF018",
    slug: "controller-manager-kubeconfig-owner",
    title: "Controller manager kubeconfig is not owned by root:root (CIS 1.1.18)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.18: `/etc/kubernetes/controller-manager.conf` is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/kubernetes/controller-manager.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.18")],
    fix: None,
}

impl NodeRule for ControllerManagerKubeconfigOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.18", out);
    }
}
