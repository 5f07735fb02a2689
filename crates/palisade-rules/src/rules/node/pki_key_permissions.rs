use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.21.
    pub struct PkiKeyPermissions;
    checks: Node,
    id: "CPF021",
    slug: "pki-key-permissions",
    title: "Kubernetes PKI private keys are readable by others (CIS 1.1.21)",
    severity: Severity::Critical,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.21: the mode of a private key (`*.key`) under `/etc/kubernetes/pki/` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "A private key readable by other users lets them sign certificates for any user (the CA key), sign service account tokens (`sa.key`) or impersonate the API server.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/pki/*.key /etc/kubernetes/pki/etcd/*.key`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.21")],
    fix: None,
}

impl NodeRule for PkiKeyPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.21", out);
    }
}
