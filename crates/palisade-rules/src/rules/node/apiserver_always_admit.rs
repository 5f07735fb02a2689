use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.10.
    pub struct ApiserverAlwaysAdmit;
    checks: Node,
    id: "API010",
    slug: "apiserver-always-admit",
    title: "API server admission includes AlwaysAdmit (CIS 1.2.10)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.10: `--enable-admission-plugins` of kube-apiserver includes `AlwaysAdmit`.",
    rationale: "`AlwaysAdmit` admits every request whatever the other admission plugins would decide.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and remove `AlwaysAdmit` from `--enable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.10")],
    fix: None,
}

impl NodeRule for ApiserverAlwaysAdmit {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.10", out);
    }
}
