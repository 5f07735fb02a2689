use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.3.
    pub struct KubeletClientCaFile;
    checks: Node,
    id: "KLT003",
    slug: "kubelet-client-ca-file",
    title: "kubelet has no client CA (CIS 4.2.3)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.3: `--client-ca-file` (`authentication.x509.clientCAFile` in the configuration file) of kubelet is not set.",
    rationale: "Without a client CA the kubelet cannot authenticate the API server's client certificate, so its API is either open or unusable.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `authentication.x509.clientCAFile` (flag `--client-ca-file`). A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.3")],
    fix: None,
}

impl NodeRule for KubeletClientCaFile {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.3", out);
    }
}
