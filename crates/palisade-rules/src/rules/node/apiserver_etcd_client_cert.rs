use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.23.
    pub struct ApiserverEtcdClientCert;
    checks: Node,
    id: "API023",
    slug: "apiserver-etcd-client-cert",
    title: "API server does not authenticate to etcd with a certificate (CIS 1.2.23)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.23: `--etcd-certfile` or `--etcd-keyfile` of kube-apiserver is not set.",
    rationale: "etcd holds every Secret; the API server should prove its identity with a client certificate, and etcd should require one.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--etcd-certfile` to the path of its file and set `--etcd-keyfile` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.23")],
    fix: None,
}

impl NodeRule for ApiserverEtcdClientCert {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.23", out);
    }
}
