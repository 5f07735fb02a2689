use palisade_core::rule::{Framework, Reference, Severity};

use crate::{declare_rule, NodeCx, NodeEmit, NodeRule};

declare_rule! {
    /// CIS Kubernetes Benchmark 1.2.28.
    pub struct ApiserverEncryptionProviders;
    checks: Node,
    id: "API028",
    slug: "apiserver-encryption-providers",
    title: "Encryption at rest does not start with a real provider (CIS 1.2.28)",
    severity: Severity::High,
    category: "node",
    kinds: super::NODE_KINDS,
    summary: "CIS 1.2.28: the first provider of a resource in the `EncryptionConfiguration` named by `--encryption-provider-config` is not `aescbc`, `kms` or `secretbox` (for example `identity`, which writes clear text). The benchmark does not score this check: kube-bench reports its failure as WARN, and so does `palisade node`; the finding keeps the rule's severity.",
    rationale: "The first provider of each resource encrypts new writes; `identity` (or an unknown provider) first means the resource is written in clear text.",
    remediation: "Put a real provider first for every resource, preferably `kms` (v2) or `secretbox`, keeping `identity` last only while existing data is rewritten:\n\n```yaml\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      keys:\n      - name: key1\n        secret: <32 random bytes, base64>\n  - identity: {}\n```\n\nThen rewrite the Secrets: `kubectl get secrets -A -o json | kubectl replace -f -`.",
    references: &[Reference::new(Framework::Cis, "1.2.28")],
    fix: None,
}

impl NodeRule for ApiserverEncryptionProviders {
    fn check_node(&self, cx: &NodeCx<'_>, out: &mut Vec<NodeEmit>) {
        super::report(cx, "1.2.28", out);
    }
}
