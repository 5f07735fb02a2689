use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.17.
    pub struct ControllerManagerKubeconfigPermissions;
    checks: Node,
    id: "CPF017",
    slug: "controller-manager-kubeconfig-permissions",
    title: "Controller manager kubeconfig is readable or writable by others (CIS 1.1.17)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.17: the mode of `/etc/kubernetes/controller-manager.conf` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "The kubeconfig holds a client certificate and key with the component's privileges; a local user who can read it acts as the component against the API server.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/controller-manager.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.17")],
    fix: None,
}

impl NodeRule for ControllerManagerKubeconfigPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.17", out);
    }
}
