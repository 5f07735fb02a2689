use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.29.
    pub struct ApiserverTlsCipherSuites;
    checks: Node,
    id: "API029",
    slug: "apiserver-tls-cipher-suites",
    title: "API server allows weak TLS cipher suites (CIS 1.2.29)",
    severity: Severity::Medium,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.29: `--tls-cipher-suites` of kube-apiserver is not set, or lists a cipher suite outside the strong ones (TLS 1.3 suites and ECDHE with AES-GCM or ChaCha20-Poly1305). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "CBC, RC4 and 3DES suites are broken or weak; leaving them enabled lets a client or an attacker downgrade the connection.",
    remediation: "Edit `/etc/kubernetes/manifests/kube-apiserver.yaml` on each control plane node and set `--tls-cipher-suites` to strong suites only, for example `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305`; the kubelet restarts the static pod when the file changes. Where kube-apiserver runs as a service instead, change its unit or arguments file.",
    references: &[Reference::new(Framework::Cis, "1.2.29")],
    fix: None,
}

impl NodeRule for ApiserverTlsCipherSuites {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.29", out);
    }
}
