use palisade_core::rule::Severity;

use super::{container_images, parse_image, SUPPLY_CHAIN_REFERENCES};
use crate::rules::secrets::image_password;
use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Images without a tag, or tagged `latest`, and not pinned by digest.
    pub struct LatestTag;
    checks: Object,
    id: "IMG001",
    slug: "image-latest-tag",
    title: "Image has no tag or uses `latest`",
    severity: Severity::Medium,
    category: "image",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container image has no tag, or the tag `latest`, and no digest.",
    rationale: "`latest` (which an untagged image means) moves: two nodes can run different code \
under the same manifest, a rollback brings back whatever the tag points at today, and a \
compromised registry push reaches the cluster at the next pull. Reviews and vulnerability scans \
describe an image that may not be the one running.",
    remediation: "Pin a specific version tag, and preferably a digest:\n\n```yaml\nimage: \
registry.example.com/app:1.4.2@sha256:…\n```",
    references: SUPPLY_CHAIN_REFERENCES,
    fix: None,
    credentials: true,
}

impl ObjectRule for LatestTag {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        for (container, image) in container_images(cx.object) {
            let parsed = parse_image(image);
            if parsed.digest.is_some() {
                continue;
            }
            let message = match parsed.tag {
                None => format!(
                    "{} uses image \"{image}\" without a tag (pulls `latest`); pin a version tag or digest",
                    describe(&container)
                ),
                Some("latest") => format!(
                    "{} uses image \"{image}\"; pin a version tag or digest instead of `latest`",
                    describe(&container)
                ),
                Some(_) => continue,
            };
            out.push(
                Emit::new(container.field("image"), message).with_secrets(image_password(image)),
            );
        }
    }
}
