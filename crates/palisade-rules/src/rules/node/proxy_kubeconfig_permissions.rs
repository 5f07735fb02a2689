use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.3.
    pub struct ProxyKubeconfigPermissions;
    checks: Node,
    id: "NDF003",
    slug: "proxy-kubeconfig-permissions",
    title: "kube-proxy kubeconfig is readable or writable by others (CIS 4.1.3)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.3: the mode of `/etc/kubernetes/proxy.conf` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "The kubeconfig holds a client certificate and key with the component's privileges; a local user who can read it acts as the component against the API server.",
    remediation: "On the node, run `chmod 600 /etc/kubernetes/proxy.conf`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.3")],
    fix: None,
}

impl NodeRule for ProxyKubeconfigPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.3", out);
    }
}
