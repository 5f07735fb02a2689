use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.26.
    pub struct ApiserverEtcdCafile;
    checks: Node,
    id: "API026",
    slug: "apiserver-etcd-cafile",
    title: "API server does not verify etcd's certificate (CIS 1.2.26)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.26: `--etcd-cafile` of kube-apiserver is not set.",
    rationale: "Without `--etcd-cafile` the API server cannot check that it talks to the real etcd.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--etcd-cafile` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.26")],
    fix: None,
}

impl NodeRule for ApiserverEtcdCafile {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.26", out);
    }
}
