use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.2.
    pub struct EtcdClientCertAuth;
    checks: Node,
    id: "ETC002",
    slug: "etcd-client-cert-auth",
    title: "etcd does not require client certificates (CIS 2.2)",
    severity: Severity::Critical,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.2: `--client-cert-auth` of etcd is not set to `true`.",
    rationale: "Without `--client-cert-auth`, anyone who reaches etcd's client port reads and writes the whole cluster state, bypassing the API server and RBAC.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--client-cert-auth=true`; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.2")],
    fix: None,
}

impl NodeRule for EtcdClientCertAuth {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.2", out);
    }
}
