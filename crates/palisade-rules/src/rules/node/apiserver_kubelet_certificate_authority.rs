use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.5.
    pub struct ApiserverKubeletCertificateAuthority;
    checks: Node,
    id: "API005",
    slug: "apiserver-kubelet-certificate-authority",
    title: "API server does not verify kubelet serving certificates (CIS 1.2.5)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.5: `--kubelet-certificate-authority` of kube-apiserver is not set.",
    rationale: "Without `--kubelet-certificate-authority` the API server trusts any certificate a kubelet presents: a machine in the middle can capture `exec`, `attach` and log streams, credentials included.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--kubelet-certificate-authority` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.5")],
    fix: None,
}

impl NodeRule for ApiserverKubeletCertificateAuthority {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.5", out);
    }
}
