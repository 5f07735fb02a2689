use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.7.
    pub struct EtcdManifestPermissions;
    checks: Node,
    id: "CPF007",
    slug: "etcd-manifest-permissions",
    title: "etcd static pod manifest is readable or writable by others (CIS 1.1.7)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.7: the mode of `/etc/kubernetes/manifests/etcd.yaml` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "Whoever can write this file changes what the component runs with: its flags, its image, its credentials. Only root should be able to.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/manifests/etcd.yaml`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.7")],
    fix: None,
}

impl NodeRule for EtcdManifestPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.7", out);
    }
}
