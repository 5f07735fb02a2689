use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.22.
    pub struct ApiserverServiceAccountKeyFile;
    checks: Node,
    id: "API022",
    slug: "apiserver-service-account-key-file",
    title: "API server has no service account public key (CIS 1.2.22)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.22: `--service-account-key-file` of kube-apiserver is not set.",
    rationale: "Without `--service-account-key-file` the API server verifies service account tokens with its serving key, which cannot be rotated on its own.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--service-account-key-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.22")],
    fix: None,
}

impl NodeRule for ApiserverServiceAccountKeyFile {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.22", out);
    }
}
