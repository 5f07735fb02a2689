use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.4.
    pub struct ControllerManagerManifestOwner;
    checks: Node,
    id: "CPF004",
    slug: "controller-manager-manifest-owner",
    title: "Controller manager static pod manifest is not owned by root:root (CIS 1.1.4)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.4: `/etc/kubernetes/manifests/kube-controller-manager.yaml` is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/kubernetes/manifests/kube-controller-manager.yaml`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.4")],
    fix: None,
}

impl NodeRule for ControllerManagerManifestOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.4", out);
    }
}
