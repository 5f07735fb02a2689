use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.11.
    pub struct ApiserverAlwaysPullImages;
    checks: Node,
    id: "API011",
    slug: "apiserver-always-pull-images",
    title: "API server does not force image pulls (AlwaysPullImages) (CIS 1.2.11)",
    severity: Severity::Low,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.11: `--enable-admission-plugins` of kube-apiserver does not include `AlwaysPullImages`. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without `AlwaysPullImages`, a pod on a multi-tenant node can run a private image another tenant pulled, without the credentials to pull it.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and add `AlwaysPullImages` to `--enable-admission-plugins`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.11")],
    fix: None,
}

impl NodeRule for ApiserverAlwaysPullImages {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.11", out);
    }
}
