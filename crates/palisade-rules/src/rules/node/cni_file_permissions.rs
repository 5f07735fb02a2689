use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.1.9.
    pub struct CniFilePermissions;
    checks: Node,
    id: "CPF009",
    slug: "cni-file-permissions",
    title: "CNI configuration files are readable or writable by others (CIS 1.1.9)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.1.9: the mode of a CNI file (under the kubelet's `--cni-conf-dir`, `/etc/cni/net.d` by default, and `/var/lib/cni/networks`) allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "The CNI configuration decides how every pod is wired to the network; a user who can change it can bypass network policy or intercept traffic.",
    remediation: "On the node, run `chmod 600 /etc/cni/net.d/*`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "1.1.9")],
    fix: None,
}

impl NodeRule for CniFilePermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.1.9", out);
    }
}
