use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.19.
    pub struct PkiOwner;
    checks: Node,
    id: "CPF019",
    slug: "pki-owner",
    title: "Kubernetes PKI files are not owned by root:root (CIS 1.1.19)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.19: `/etc/kubernetes/pki/` or a file or folder under it is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`).",
    rationale: "The PKI directory holds the cluster CA's and the service account signing keys. Another owner can read or replace them: mint any identity, sign any token.",
    remediation: "On the node, run `chown root:root -R /etc/kubernetes/pki`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.19")],
    fix: None,
}

impl NodeRule for PkiOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.19", out);
    }
}
