use palisade_core::pointer::At;
use palisade_core::rule::{Applicability, FixSafety, Severity};

use super::{container_images, parse_image, SUPPLY_CHAIN_REFERENCES};
use crate::rules::secrets::image_password;
use crate::rules::util::{describe, set_fix};
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Mutable image tags pulled only when absent from the node.
    pub struct PullPolicy;
    checks: Object,
    id: "IMG003",
    slug: "image-pull-policy",
    title: "Mutable image tag is not always pulled",
    severity: Severity::Low,
    category: "image",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container image with a mutable tag (none, `latest`, or a tag without a version \
number such as `stable` or `main`) and no digest is pulled with `imagePullPolicy` `IfNotPresent` \
or `Never`: written so, or left unset or empty with a tag other than `latest`, which the API \
server stores as `IfNotPresent` (it stores `Always` only for `latest` and for an image without a \
tag).",
    rationale: "The node then runs whatever it cached under that tag, which differs between \
nodes and from what the registry now holds. A pod can also start from an image another tenant \
pulled to the node, without the pull credentials that would have been checked.",
    remediation: "Pin the image by version and digest; otherwise pull it every time:\n\n\
```yaml\nimagePullPolicy: Always\n```",
    references: SUPPLY_CHAIN_REFERENCES,
    fix: Some(FixSafety {
        applicability: Some(Applicability::Unsafe),
        reason: "With `Always` the node asks the registry at every start: a pod then cannot start while \
the registry is unreachable, an image loaded on the node (`Never`) is no longer used, and a \
mutable tag may bring a newer image than the one that ran.",
    }),
    credentials: true,
}

/// Whether a tag is one that moves: absent, `latest`, or without any digit (`stable`, `main`).
pub fn is_mutable_tag(tag: Option<&str>) -> bool {
    match tag {
        None => true,
        Some(tag) => tag == "latest" || !tag.bytes().any(|b| b.is_ascii_digit()),
    }
}

impl ObjectRule for PullPolicy {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        for (container, image) in container_images(cx.object) {
            let parsed = parse_image(image);
            if parsed.digest.is_some() || !is_mutable_tag(parsed.tag) {
                continue;
            }
            let pointer = container.field("imagePullPolicy");
            let written = cx.object.value.at(&pointer);
            let (at, policy, defaulted) = match written.filter(|v| !v.is_null()) {
                Some(policy) if policy.as_str() != Some("") => {
                    (pointer.clone(), policy.as_str(), "")
                }
                // The API server defaults an unset or empty policy to `Always` for `latest` and
                // for an image without a tag, and to `IfNotPresent` for any other tag.
                _ if parsed.tag.is_some_and(|tag| tag != "latest") => (
                    if written.is_some() {
                        pointer.clone()
                    } else {
                        container.field("image")
                    },
                    Some("IfNotPresent"),
                    " (the default for a tag other than latest)",
                ),
                _ => continue,
            };
            let Some(policy @ ("IfNotPresent" | "Never")) = policy else {
                continue;
            };
            let fix = cx.fix(|| {
                set_fix(
                    cx.object,
                    &pointer,
                    "Always".into(),
                    "set imagePullPolicy to Always".to_owned(),
                    Applicability::Unsafe,
                )
            });
            out.push(
                Emit::new(
                    at,
                    format!(
                        "{} pulls mutable image \"{image}\" with imagePullPolicy {policy}{defaulted}; use Always or pin the image",
                        describe(&container)
                    ),
                )
                .with_fix(fix)
                .with_secrets(image_password(image)),
            );
        }
    }
}
