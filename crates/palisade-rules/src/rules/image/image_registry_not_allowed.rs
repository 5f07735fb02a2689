use palisade_core::rule::{Framework, Reference, Severity};

use super::container_images;
use crate::rules::secrets::image_password;
use crate::rules::util::describe;
use crate::{declare_rule, Emit, ObjectCx, ObjectRule};

declare_rule! {
    /// Images from registries outside the configured allow-list.
    pub struct RegistryAllowList;
    checks: Object,
    id: "IMG004",
    slug: "image-registry-not-allowed",
    title: "Image comes from a registry outside the allow-list",
    severity: Severity::High,
    category: "image",
    kinds: palisade_core::views::WORKLOAD_KINDS,
    summary: "A container image does not start with one of the prefixes in \
`rules.allowed-registries` of `.palisade.yaml`. Without that setting the rule reports nothing.",
    rationale: "Images from registries you do not control skip your build pipeline, scanning \
and signing, and can change under you. Typosquatted public images carry cryptominers and \
backdoors.",
    remediation: "Mirror the image into an allowed registry and reference it there, or add the \
registry to the allow-list:\n\n```yaml\n# .palisade.yaml\nrules:\n  allowed-registries:\n  - \
registry.example.com/\n```\n\nShort Docker Hub names are compared in their full form \
(`nginx` is `docker.io/library/nginx`).",
    references: &[
        Reference::new(Framework::Cis, "5.5.1"),
        Reference::new(
            Framework::NsaCisa,
            "Supply chain: use immutable, scanned images",
        ),
        Reference::url(
            Framework::Mitre,
            "T1525",
            "https://attack.mitre.org/techniques/T1525/",
        ),
    ],
    fix: None,
    credentials: true,
}

/// The fully qualified form of an image reference (`nginx` → `docker.io/library/nginx`).
pub fn qualified(image: &str) -> String {
    let (first, rest) = match image.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (image, None),
    };
    let is_host = |s: &str| s.contains('.') || s.contains(':') || s == "localhost";
    match rest {
        None => format!("docker.io/library/{image}"),
        Some(_) if is_host(first) => image.to_owned(),
        Some(_) => format!("docker.io/{image}"),
    }
}

impl ObjectRule for RegistryAllowList {
    fn check(&self, cx: &ObjectCx<'_>, out: &mut Vec<Emit>) {
        let allowed = &cx.settings.allowed_registries;
        if allowed.is_empty() {
            return;
        }
        for (container, image) in container_images(cx.object) {
            let full = qualified(image);
            if allowed.iter().any(|prefix| {
                image.starts_with(prefix.as_str()) || full.starts_with(prefix.as_str())
            }) {
                continue;
            }
            out.push(
                Emit::new(
                    container.field("image"),
                    format!(
                        "{} uses image \"{image}\" from a registry outside the allow-list ({}); mirror it into an allowed registry",
                        describe(&container),
                        allowed.join(", ")
                    ),
                )
                .with_secrets(image_password(image)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::qualified;

    #[test]
    fn qualifies_short_names() {
        assert_eq!(qualified("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(qualified("bitnami/redis"), "docker.io/bitnami/redis");
        assert_eq!(qualified("ghcr.io/org/app"), "ghcr.io/org/app");
        assert_eq!(qualified("localhost/app"), "localhost/app");
        assert_eq!(qualified("registry:5000/app"), "registry:5000/app");
    }
}
