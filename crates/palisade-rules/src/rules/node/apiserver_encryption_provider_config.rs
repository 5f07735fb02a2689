use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.27.
    pub struct ApiserverEncryptionProviderConfig;
    checks: Node,
    id: "API027",
    slug: "apiserver-encryption-provider-config",
    title: "API server does not encrypt Secrets at rest (CIS 1.2.27)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.27: `--encryption-provider-config` of kube-apiserver is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without an encryption configuration Secrets are stored in etcd in clear text: its backups and data directory leak every credential.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--encryption-provider-config` to the path of its file; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.27")],
    fix: None,
}

impl NodeRule for ApiserverEncryptionProviderConfig {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.27", out);
    }
}
