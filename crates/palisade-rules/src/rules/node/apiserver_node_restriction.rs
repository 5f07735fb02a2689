use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.14.
    pub struct ApiserverNodeRestriction;
    checks: Node,
    id: "API014",
    slug: "apiserver-node-restriction",
    title: "API server does not restrict kubelets (NodeRestriction) (CIS 1.2.14)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.14: `--enable-admission-plugins` of kube-apiserver does not include `NodeRestriction`.",
    rationale: "NodeRestriction limits which Node and Pod objects a kubelet may change; without it a compromised node can relabel itself or others and attract sensitive workloads.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and add `NodeRestriction` to `--enable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.14")],
    fix: None,
}

impl NodeRule for ApiserverNodeRestriction {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.14", out);
    }
}
