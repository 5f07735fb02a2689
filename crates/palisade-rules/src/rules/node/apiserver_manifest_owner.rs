use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.2.
    pub struct ApiserverManifestOwner;
    checks: Node,
    id: "CPF002",
    slug: "apiserver-manifest-owner",
    title: "API server static pod manifest is not owned by root:root (CIS 1.1.2)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.2: `/etc/kubernetes/manifests/kube-apiserver.yaml` is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/kubernetes/manifests/kube-apiserver.yaml`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.2")],
    fix: None,
}

impl NodeRule for ApiserverManifestOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.2", out);
    }
}
