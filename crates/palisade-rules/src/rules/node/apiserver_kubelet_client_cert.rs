use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.4.
    pub struct ApiserverKubeletClientCert;
    checks: Node,
    id: "API004",
    slug: "apiserver-kubelet-client-cert",
    title: "API server has no client certificate for the kubelets (CIS 1.2.4)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.4: `--kubelet-client-certificate` or `--kubelet-client-key` of kube-apiserver is not set.",
    rationale: "Without a client certificate the API server cannot authenticate to kubelets that require it, which pushes operators to open the kubelet API instead.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--kubelet-client-certificate` to the path of its file and set `--kubelet-client-key` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.4")],
    fix: None,
}

impl NodeRule for ApiserverKubeletClientCert {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.4", out);
    }
}
