use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.25.
    pub struct ApiserverClientCaFile;
    checks: Node,
    id: "API025",
    slug: "apiserver-client-ca-file",
    title: "API server has no client CA (CIS 1.2.25)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.25: `--client-ca-file` of kube-apiserver is not set.",
    rationale: "Without `--client-ca-file` the API server cannot authenticate client certificates, so kubelets and components fall back to weaker credentials.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--client-ca-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.25")],
    fix: None,
}

impl NodeRule for ApiserverClientCaFile {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.25", out);
    }
}
