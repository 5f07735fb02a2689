use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 2.7.
    pub struct EtcdTrustedCa;
    checks: Node,
    id: "ETC007",
    slug: "etcd-trusted-ca",
    title: "etcd has no trusted CA for clients (CIS 2.7)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 2.7: `--trusted-ca-file` of etcd is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without `--trusted-ca-file` etcd cannot verify client certificates; a CA of its own keeps certificates issued for other purposes from opening etcd.",
    remediation: "Edit `/etc/kubernetes/manifests/etcd.yaml` on each control plane node and set `--trusted-ca-file` to the path of its file; the kubelet restarts the static pod when the file changes. Where etcd runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "2.7")],
    fix: None,
}

impl NodeRule for EtcdTrustedCa {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "2.7", out);
    }
}
