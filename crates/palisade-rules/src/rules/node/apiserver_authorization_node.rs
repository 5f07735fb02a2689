use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.7.
    pub struct ApiserverAuthorizationNode;
    checks: Node,
    id: "API007",
    slug: "apiserver-authorization-node",
    title: "API server authorization does not include Node (CIS 1.2.7)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.7: `--authorization-mode` of kube-apiserver does not include `Node`.",
    rationale: "The Node authorizer limits each kubelet to the objects of its own pods; without it a compromised node reads every Secret of the cluster.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and add `Node` to `--authorization-mode`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.7")],
    fix: None,
}

impl NodeRule for ApiserverAuthorizationNode {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.7", out);
    }
}
