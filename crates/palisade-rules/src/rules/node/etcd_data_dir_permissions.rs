use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.11.
    pub struct EtcdDataDirPermissions;
    checks: Node,
    id: "CPF011",
    slug: "etcd-data-dir-permissions",
    title: "etcd data directory is accessible to others (CIS 1.1.11)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.11: the mode of `/var/lib/etcd` allows more than `700` (kube-bench's `bitmask`: any permission bit outside 700 fails).",
    rationale: "The etcd data directory holds every object of the cluster, Secrets included (in clear text unless encryption at rest is on). Anyone who can read it reads every Secret.",
    remediation: "On the node, run `chmod 700 /var/lib/etcd`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.11")],
    fix: None,
}

impl NodeRule for EtcdDataDirPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.11", out);
    }
}
