use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.20.
    pub struct PkiCertificatePermissions;
    checks: Node,
    id: "CPF020",
    slug: "pki-certificate-permissions",
    title: "Kubernetes PKI certificates are writable by others (CIS 1.1.20)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.20: the mode of a certificate (`*.crt`) under `/etc/kubernetes/pki/` allows more than `644` (kube-bench's `bitmask`: any permission bit outside 644 fails). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "A certificate anyone can replace lets them swap a CA or a serving certificate for their own and intercept or impersonate.",
    remediation: "On the node, run `chmod 644 /etc/kubernetes/pki/*.crt /etc/kubernetes/pki/etcd/*.crt`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.20")],
    fix: None,
}

impl NodeRule for PkiCertificatePermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.20", out);
    }
}
