use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.2.
    pub struct ApiserverTokenAuthFile;
    checks: Node,
    id: "API002",
    slug: "apiserver-token-auth-file",
    title: "API server authenticates static tokens from a file (CIS 1.2.2)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.2: `--token-auth-file` of kube-apiserver is set.",
    rationale: "Static tokens never expire, cannot be revoked without restarting the API server, and sit in clear text on the control plane's disk.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and remove `--token-auth-file`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.2")],
    fix: None,
}

impl NodeRule for ApiserverTokenAuthFile {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.2", out);
    }
}
