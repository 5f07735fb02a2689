//! Image hygiene rules.

pub mod image_latest_tag;
pub mod image_no_digest;
pub mod image_pull_policy;
pub mod image_registry_not_allowed;

use palisade_core::rule::{Framework, Reference};
use palisade_core::views::ContainerView;
use palisade_core::Object;
use serde_json::Value;

use crate::rules::util::pod;

/// References of the rules on what an image reference lets run.
pub(crate) const SUPPLY_CHAIN_REFERENCES: &[Reference] = &[
    Reference::new(
        Framework::NsaCisa,
        "Supply chain: use immutable, scanned images",
    ),
    Reference::url(
        Framework::Mitre,
        "T1525",
        "https://attack.mitre.org/techniques/T1525/",
    ),
];

/// Every container of a workload object that names its image, with the image.
pub fn container_images(object: &Object) -> Vec<(ContainerView<'_>, &str)> {
    let Some(spec) = pod(object) else {
        return Vec::new();
    };
    spec.containers()
        .into_iter()
        .filter_map(|container| match container.container.get("image") {
            Some(Value::String(image)) => Some((container, image.as_str())),
            _ => None,
        })
        .collect()
}

/// An image reference split into registry/repository, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Everything before the tag and digest (registry host and repository path).
    pub name: &'a str,
    pub tag: Option<&'a str>,
    pub digest: Option<&'a str>,
}

/// Parses an image reference as the container runtime does (the tag is after the last `:` that
/// follows the last `/`; a port in the registry host is not a tag).
pub fn parse_image(image: &str) -> ImageRef<'_> {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_slash..].rfind(':') {
        Some(i) => ImageRef {
            name: &rest[..last_slash + i],
            tag: Some(&rest[last_slash + i + 1..]),
            digest,
        },
        None => ImageRef {
            name: rest,
            tag: None,
            digest,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        assert_eq!(parse_image("nginx").tag, None);
        assert_eq!(parse_image("nginx:1.25").tag, Some("1.25"));
        let r = parse_image("registry:5000/team/app");
        assert_eq!((r.name, r.tag), ("registry:5000/team/app", None));
        let r = parse_image("registry:5000/team/app:v1@sha256:abc");
        assert_eq!(
            (r.name, r.tag, r.digest),
            ("registry:5000/team/app", Some("v1"), Some("sha256:abc"))
        );
    }
}
