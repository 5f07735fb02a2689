use palisade_core::rule::{Framework, Reference, Severity};

use super::encryption::{covers_secrets, entries};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Resources written to etcd in clear text.
    pub struct EncryptionNotEncrypted;
    checks: Object,
    id: "ENC001",
    slug: "encryption-not-encrypted",
    title: "Encryption configuration leaves Secrets or other resources unencrypted (CIS 1.2.27, 1.2.28)",
    severity: Severity::High,
    category: "node",
    kinds: &["EncryptionConfiguration"],
    summary: "An `apiserver.config.k8s.io` `EncryptionConfiguration` lists `identity` (no \
encryption) first for some resources, so new writes of them are stored in clear text, or lists \
no entry for `secrets` at all. The API server writes with the first provider of the entry that \
matches a resource, and a resource no entry matches is not encrypted.",
    rationale: "etcd, its backups and its data directory then hold those objects in clear text: \
whoever reads a backup or the disk reads every Secret of the cluster.",
    remediation: "Put an encrypting provider first for `secrets` (and every other resource \
listed), preferably `kms` (v2) or `secretbox`, and keep `identity` last only while existing data \
is rewritten:\n\n```yaml\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox:\n      \
keys:\n      - name: key1\n        secret: <32 random bytes, base64>\n  - identity: {}\n```\n\n\
Then rewrite the objects so they are stored encrypted: `kubectl get secrets -A -o json | kubectl \
replace -f -`.",
    references: &[
        Reference::new(Framework::Cis, "1.2.27"),
        Reference::new(Framework::Cis, "1.2.28"),
        Reference::url(
            Framework::Docs,
            "Encrypting Confidential Data at Rest",
            "https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/",
        ),
    ],
    fix: None,
}

impl ObjectRule for EncryptionNotEncrypted {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(entries) = entries(cx.object) else {
            return;
        };
        for (i, resources, providers) in &entries {
            let listed = resources.join(", ");
            match providers.first() {
                Some(first) if first.name == "identity" => out.push(Emit::new(
                    first.pointer.clone(),
                    format!("{listed}: `identity` is the first provider, so they are written to etcd in clear text"),
                )),
                None => out.push(Emit::new(
                    format!("/resources/{i}"),
                    format!("{listed}: no provider is listed"),
                )),
                _ => {}
            }
        }
        if !entries
            .iter()
            .any(|(_, resources, _)| covers_secrets(resources))
        {
            out.push(Emit::new(
                "/resources",
                "no entry lists `secrets`: Secrets are written to etcd in clear text",
            ));
        }
    }
}
