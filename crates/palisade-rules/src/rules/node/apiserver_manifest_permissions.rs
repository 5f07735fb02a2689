use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.1.
    pub struct ApiserverManifestPermissions;
    checks: Node,
    id: "CPF001",
    slug: "apiserver-manifest-permissions",
    title: "API server static pod manifest is readable or writable by others (CIS 1.1.1)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.1: the mode of `/etc/kubernetes/manifests/kube-apiserver.yaml` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "Whoever can write this file changes what the component runs with: its flags, its image, its credentials. Only root should be able to.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/manifests/kube-apiserver.yaml`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.1")],
    fix: None,
}

impl NodeRule for ApiserverManifestPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.1", out);
    }
}
