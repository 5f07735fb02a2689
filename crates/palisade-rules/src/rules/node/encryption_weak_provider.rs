use palisade_core::rule::{Framework, Reference, Severity};
use serde_json::Value;

use super::encryption::entries;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Deprecated or weak encryption providers.
    pub struct EncryptionWeakProvider;
    checks: Object,
    id: "ENC002",
    slug: "encryption-weak-provider",
    title: "Encryption configuration uses a weak or deprecated provider (CIS 1.2.28)",
    severity: Severity::Medium,
    category: "node",
    kinds: &["EncryptionConfiguration"],
    summary: "An `EncryptionConfiguration` encrypts with `aescbc`, which the Kubernetes \
documentation no longer recommends (it is vulnerable to padding oracle attacks), or with KMS v1 \
(`kms` without `apiVersion: v2`), deprecated since Kubernetes 1.28 and off by default since 1.29.",
    rationale: "The keys of `aescbc` sit on the control plane's disk next to the data they \
protect, and CBC without authentication lets an attacker who can write to etcd probe them. KMS \
v1 makes a call to the KMS for every read and is being removed.",
    remediation: "Prefer `kms` with `apiVersion: v2` (the key stays in an external KMS), or \
`secretbox` (XSalsa20-Poly1305, authenticated). To switch: add the new provider first, keep the \
old one second for reads, restart the API servers, then rewrite the objects (`kubectl get \
secrets -A -o json | kubectl replace -f -`) and remove the old provider.",
    references: &[
        Reference::new(Framework::Cis, "1.2.28"),
        Reference::url(
            Framework::Docs,
            "Encrypting Confidential Data at Rest: providers",
            "https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/#providers",
        ),
    ],
    fix: None,
}

impl ObjectRule for EncryptionWeakProvider {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(entries) = entries(cx.object) else {
            return;
        };
        for (_, resources, providers) in &entries {
            let listed = resources.join(", ");
            for provider in providers {
                let message = match provider.name {
                    "aescbc" => format!(
                        "{listed}: `aescbc` is not recommended (padding oracle attacks); prefer KMS v2 or `secretbox`"
                    ),
                    "kms" if provider.config.get("apiVersion").and_then(Value::as_str) != Some("v2") => {
                        format!("{listed}: KMS v1 is deprecated; set `apiVersion: v2` on the kms provider")
                    }
                    _ => continue,
                };
                out.push(Emit::new(
                    format!("{}/{}", provider.pointer, provider.name),
                    message,
                ));
            }
        }
    }
}
