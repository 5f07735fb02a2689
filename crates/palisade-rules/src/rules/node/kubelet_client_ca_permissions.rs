use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.7.
    pub struct KubeletClientCaPermissions;
    checks: Node,
    id: "NDF007",
    slug: "kubelet-client-ca-permissions",
    title: "kubelet client CA file is writable by others (CIS 4.1.7)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.7: the mode of `/etc/kubernetes/pki/ca.crt` allows more than `644` (kube-bench's `bitmask`: any permission bit outside 644 fails). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Whoever can replace the kubelet's client CA can authenticate to the kubelet API with certificates of their own.",
    remediation: "On the node, run `chmod 644 /etc/kubernetes/pki/ca.crt`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.7")],
    fix: None,
}

impl NodeRule for KubeletClientCaPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.7", out);
    }
}
