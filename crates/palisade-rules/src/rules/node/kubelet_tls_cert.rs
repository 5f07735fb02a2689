use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.9.
    pub struct KubeletTlsCert;
    checks: Node,
    id: "KLT009",
    slug: "kubelet-tls-cert",
    title: "kubelet has no TLS certificate and key (CIS 4.2.9)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.9: `--tls-cert-file` or `--tls-private-key-file` of kubelet (`tlsCertFile`, `tlsPrivateKeyFile` in the configuration file) is not set. The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "Without its own serving certificate the kubelet generates a self-signed one that the API server cannot verify.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `tlsCertFile` (flag `--tls-cert-file`) and set `tlsPrivateKeyFile` (flag `--tls-private-key-file`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.9")],
    fix: None,
}

impl NodeRule for KubeletTlsCert {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.9", out);
    }
}
