use palisade_core::pointer;
use palisade_core::rule::{Framework, Reference, Severity};

use super::encryption::{entries, keys, KEYED};
use crate::rules::util::base64_decode;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Encryption keys the API server would refuse, or that are too short.
    pub struct EncryptionInvalidKey;
    checks: Object,
    id: "ENC003",
    slug: "encryption-invalid-key",
    title: "Encryption key is not base64 or has the wrong length",
    severity: Severity::High,
    category: "node",
    kinds: &["EncryptionConfiguration"],
    summary: "A key of an `aescbc`, `aesgcm` or `secretbox` provider is not standard base64, \
decodes to a length the provider does not take (16, 24 or 32 bytes for AES, exactly 32 for \
`secretbox`), or the provider lists no key. The key itself is never printed.",
    rationale: "The API server refuses to start with such a key, or, for an AES key of 16 \
bytes, encrypts with a weaker key than intended. A key that is a password or a phrase rather \
than random bytes is guessable.",
    remediation: "Generate each key from random bytes: `head -c 32 /dev/urandom | base64`, and \
rotate by adding the new key first and keeping the old one second until the objects are \
rewritten.",
    references: &[
        Reference::new(Framework::Cis, "1.2.28"),
        Reference::url(
            Framework::Docs,
            "Encrypting Confidential Data at Rest: generate the key",
            "https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/#generate-key-no-kms",
        ),
    ],
    fix: None,
    credentials: true,
}

impl ObjectRule for EncryptionInvalidKey {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let Some(entries) = entries(cx.object) else {
            return;
        };
        for (_, _, providers) in &entries {
            for provider in providers {
                let Some((_, sizes)) = KEYED.iter().find(|(name, _)| *name == provider.name) else {
                    continue;
                };
                let base = format!("{}/{}", provider.pointer, pointer::escape(provider.name));
                let keys = keys(provider);
                if keys.is_empty() {
                    out.push(Emit::new(base, format!("`{}` lists no key", provider.name)));
                    continue;
                }
                for (k, name, secret) in keys {
                    let at = format!("{base}/keys/{k}/secret");
                    let problem = match base64_decode(secret.trim()) {
                        None => "is not base64".to_owned(),
                        Some(bytes) if !sizes.contains(&bytes.len()) => format!(
                            "decodes to {} bytes; `{}` takes {}",
                            bytes.len(),
                            provider.name,
                            sizes
                                .iter()
                                .map(usize::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Some(bytes) if bytes.len() == 16 => {
                            "is a 16-byte (AES-128) key; use 32 random bytes".to_owned()
                        }
                        Some(_) => continue,
                    };
                    out.push(
                        Emit::new(at, format!("key {name:?} of `{}` {problem}", provider.name))
                            .with_secret(secret),
                    );
                }
            }
        }
    }
}
