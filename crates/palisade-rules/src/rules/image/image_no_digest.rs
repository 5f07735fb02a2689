use palisade_core::rule::Severity;

use super::{container_images, parse_image, SUPPLY_CHAIN_REFERENCES};
use crate::rules::secrets::image_password;
use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Images referenced by tag only.
    pub struct NoDigest;
    checks: Object,
    id: "IMG002",
    slug: "image-no-digest",
    title: "Image is not pinned by digest",
    severity: Severity::Low,
    category: "image",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container image has a version tag but no `@sha256:` digest.",
    rationale: "Tags can be moved: whoever can push to the repository (or a compromised \
registry) can change what `app:1.4.2` means, and nodes that pull later run the new content. A \
digest names exactly the bytes that were reviewed and scanned.",
    remediation: "Append the digest of the image you tested:\n\n```yaml\nimage: \
registry.example.com/app:1.4.2@sha256:…\n```\n\nTools such as Renovate keep digests current.",
    references: SUPPLY_CHAIN_REFERENCES,
    fix: None,
    credentials: true,
}

impl ObjectRule for NoDigest {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        for (container, image) in container_images(cx.object) {
            let parsed = parse_image(image);
            // Untagged and `latest` images are the latest-tag rule's findings.
            match (parsed.digest, parsed.tag) {
                (None, Some(tag)) if tag != "latest" => out.push(
                    Emit::new(
                        container.field("image"),
                        format!(
                            "{} uses image \"{image}\" without a digest; pin it with @sha256:…",
                            describe(&container)
                        ),
                    )
                    .with_secrets(image_password(image)),
                ),
                _ => {}
            }
        }
    }
}
