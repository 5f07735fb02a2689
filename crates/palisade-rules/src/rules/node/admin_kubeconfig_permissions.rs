use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.13.
    pub struct AdminKubeconfigPermissions;
    checks: Node,
    id: "CPF013",
    slug: "admin-kubeconfig-permissions",
    title: "Administrator kubeconfig is readable or writable by others (CIS 1.1.13)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.13: the mode of `/etc/kubernetes/admin.conf` or `/etc/kubernetes/super-admin.conf` (where present) allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "`admin.conf` and `super-admin.conf` hold cluster-admin (or break-glass `system:masters`) credentials: a local user who can read them owns the cluster.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/admin.conf /etc/kubernetes/super-admin.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.13")],
    fix: None,
}

impl NodeRule for AdminKubeconfigPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.13", out);
    }
}
