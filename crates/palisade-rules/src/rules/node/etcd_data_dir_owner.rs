use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.12.
    pub struct EtcdDataDirOwner;
    checks: Node,
    id: "CPF012",
    slug: "etcd-data-dir-owner",
    title: "etcd data directory is not owned by etcd:etcd (CIS 1.1.12)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.12: `/var/lib/etcd` is not owned by `etcd:etcd` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "etcd should run as its own user and own its data; a directory owned by root or another user means etcd runs as root or its data can be changed by another account.",
    remediation: "On the node, run `chown etcd:etcd /var/lib/etcd`. etcd must run as that user (`securityContext.runAsUser` of the static pod, or `User=etcd` in its unit) to keep writing its data. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.12")],
    fix: None,
}

impl NodeRule for EtcdDataDirOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.12", out);
    }
}
