use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.8.
    pub struct KubeletClientCaOwner;
    checks: Node,
    id: "NDF008",
    slug: "kubelet-client-ca-owner",
    title: "kubelet client CA file is not owned by root:root (CIS 4.1.8)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.8: `/etc/kubernetes/pki/ca.crt` is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/kubernetes/pki/ca.crt`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.8")],
    fix: None,
}

impl NodeRule for KubeletClientCaOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.8", out);
    }
}
