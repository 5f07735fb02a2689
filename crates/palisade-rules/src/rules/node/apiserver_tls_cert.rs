use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.24.
    pub struct ApiserverTlsCert;
    checks: Node,
    id: "API024",
    slug: "apiserver-tls-cert",
    title: "API server has no TLS certificate and key (CIS 1.2.24)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.24: `--tls-cert-file` or `--tls-private-key-file` of kube-apiserver is not set.",
    rationale: "Without its own certificate the API server serves a self-signed one that clients cannot verify.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--tls-cert-file` to the path of its file and set `--tls-private-key-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.24")],
    fix: None,
}

impl NodeRule for ApiserverTlsCert {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.24", out);
    }
}
