use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.13.
    pub struct ApiserverNamespaceLifecycle;
    checks: Node,
    id: "API013",
    slug: "apiserver-namespace-lifecycle",
    title: "API server disables the NamespaceLifecycle admission plugin (CIS 1.2.13)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.13: `--disable-admission-plugins` of kube-apiserver includes `NamespaceLifecycle`.",
    rationale: "NamespaceLifecycle refuses objects in namespaces being deleted or that do not exist, so that policies tied to a namespace cannot be sidestepped.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and remove `NamespaceLifecycle` from `--disable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.13")],
    fix: None,
}

impl NodeRule for ApiserverNamespaceLifecycle {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.13", out);
    }
}
