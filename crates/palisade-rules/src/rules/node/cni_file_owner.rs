use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.10.
    pub struct CniFileOwner;
    checks: Node,
    id: "CPF010",
    slug: "cni-file-owner",
    title: "CNI configuration files are not owned by root:root (CIS 1.1.10)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.10: a CNI file (under the kubelet's `--cni-conf-dir`, `/etc/cni/net.d` by default, and `/var/lib/cni/networks`) is not owned by `root:root` (user and group names come from the node's own `/etc/passwd` and `/etc/group`). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "A file owned by another user can be rewritten by that user, or by anyone who compromises it, to change what the component runs with.",
    remediation: "On the node, run `chown root:root /etc/cni/net.d/*`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.10")],
    fix: None,
}

impl NodeRule for CniFileOwner {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.10", out);
    }
}
