use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 4.2.12.
    pub struct KubeletTlsCipherSuites;
    checks: Node,
    id: "KLT012",
    slug: "kubelet-tls-cipher-suites",
    title: "kubelet allows weak TLS cipher suites (CIS 4.2.12)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 4.2.12: `--tls-cipher-suites` (`tlsCipherSuites` in the configuration file) of kubelet is not set, or lists a cipher suite outside the strong ones (TLS 1.3 suites and ECDHE with AES-GCM or ChaCha20-Poly1305). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "CBC, RC4 and 3DES suites are broken or weak; leaving them enabled allows a downgrade.",
    remediation: "In the kubelet's configuration file (`/var/lib/kubelet/config.yaml` with kubeadm), set `--tls-cipher-suites` (`tlsCipherSuites`) to strong suites only, for example `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305`. A command-line flag overrides the file: remove the flag from the kubelet's systemd drop-in, `/var/lib/kubelet/kubeadm-flags.env` and `/etc/default/kubelet`. Then run `systemctl daemon-reload && systemctl restart kubelet`.",
    references: &[Reference::new(Framework::Cis, "4.2.12")],
    fix: None,
}

impl NodeRule for KubeletTlsCipherSuites {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "4.2.12", out);
    }
}
