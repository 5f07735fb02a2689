use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.1.9.
    pub struct KubeletConfigPermissions;
    checks: Node,
    id: "NDF009",
    slug: "kubelet-config-permissions",
    title: "kubelet configuration file is readable or writable by others (CIS 4.1.9)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.1.9: the mode of `/var/lib/kubelet/config.yaml` allows more than `600` (kube-bench's `bitmask`: any permission bit outside 600 fails).",
    rationale: "The kubelet's configuration file sets its authentication, authorization and ports; whoever can change it opens the kubelet API.",
    remediation: "On the node, run `chmod 600 /var/lib/kubelet/config.yaml`. A missing file is reported as WARN with the paths looked for.",
    references: &[Reference::new(Framework::Cis, "4.1.9")],
    fix: None,
}

impl NodeRule for KubeletConfigPermissions {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.1.9", out);
    }
}
