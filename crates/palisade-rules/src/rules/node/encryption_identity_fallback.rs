use palisade_core::rule::{Framework, Reference, Severity};

use super::encryption::{entries, keys, KEYED};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// `identity` as the only fallback of a single key.
    pub struct EncryptionIdentityFallback;
    checks: Object,
    id: "ENC004",
    slug: "encryption-identity-fallback",
    title: "Encryption falls back only to identity, with no key to rotate to",
    severity: Severity::Low,
    category: "node",
    kinds: &["EncryptionConfiguration"],
    summary: "A resources entry encrypts with one provider holding a single key and lists \
`identity` as its only fallback: objects written before encryption was turned on stay readable \
in clear text, and there is no second key or provider to rotate to.",
    rationale: "`identity` as a fallback is for the migration only: as long as it stays, nothing \
shows that old objects were rewritten, and they may still sit in etcd in clear text. A single key \
with no rotation path stays in use forever, however many backups it protects.",
    remediation: "Rewrite the objects (`kubectl get secrets -A -o json | kubectl replace -f -`), \
then remove `identity`. Rotate keys regularly: add the new key second, restart the API servers, \
move it first, restart, rewrite the objects, then remove the old key.",
    references: &[
        Reference::new(Framework::Cis, "1.2.28"),
        Reference::url(
            Framework::Docs,
            "Encrypting Confidential Data at Rest: rotating a decryption key",
            "https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/#rotating-a-decryption-key",
        ),
    ],
    fix: None,
}

impl ObjectRule for EncryptionIdentityFallback {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(entries) = entries(cx.object) else {
            return;
        };
        for (_, resources, providers) in &entries {
            let [first, second] = providers.as_slice() else {
                continue;
            };
            let keyed = KEYED.iter().any(|(name, _)| *name == first.name);
            if second.name == "identity" && keyed && keys(first).len() == 1 {
                out.push(Emit::new(
                    second.pointer.clone(),
                    format!(
                        "{}: `identity` is the only fallback of a single `{}` key: rewrite the objects and remove it, and add a second key to rotate",
                        resources.join(", "),
                        first.name
                    ),
                ));
            }
        }
    }
}
