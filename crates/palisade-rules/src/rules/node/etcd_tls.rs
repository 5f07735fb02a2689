use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.1.
    pub struct EtcdTls;
    checks: Node,
    id: "ETC001",
    slug: "etcd-tls",
    title: "etcd serves clients without TLS (CIS 2.1)",
    severity: Severity::Critical,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.1: `--cert-file` or `--key-file` of etcd is not set.",
    rationale: "etcd holds every Secret of the cluster; without TLS its traffic, Secrets included, crosses the network in clear text.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--cert-file` to the path of its file and set `--key-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.1")],
    fix: None,
}

impl NodeRule for EtcdTls {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.1", out);
    }
}
