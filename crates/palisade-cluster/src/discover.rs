//! Which resource types to list: the kinds asked for that the server serves and lets list.

use std::collections::BTreeSet;

use kube::discovery::{verbs, Discovery, Scope};

/// One resource type to list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ResourceType {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ResourceType {
    /// `v1` or `<group>/<version>`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The URL path of the collection, in `namespace` when given and namespaced.
    pub fn path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace.filter(|_| self.namespaced) {
            Some(ns) => format!("{base}/namespaces/{ns}/{}", self.plural),
            None => format!("{base}/{}", self.plural),
        }
    }

    /// `plural` or `plural.group`, as RBAC and `kubectl` name it.
    pub fn name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("discovery failed: {0}")]
pub struct DiscoverError(#[from] kube::Error);

/// The resource types, at each group's preferred version, whose kind is in `kinds` and that
/// the server lets clients list. Kinds the server does not serve are left out. Uses aggregated
/// discovery, and the per-group documents when the server does not serve it.
pub async fn discover(
    client: &kube::Client,
    kinds: &BTreeSet<String>,
) -> Result<Vec<ResourceType>, DiscoverError> {
    // A server without aggregated discovery answers with the legacy documents, which read
    // as an empty aggregated list, or fails: then ask each group.
    let discovery = match Discovery::new(client.clone()).run_aggregated().await {
        Ok(discovery) if discovery.groups().next().is_some() => discovery,
        _ => Discovery::new(client.clone()).run().await?,
    };
    let mut found = BTreeSet::new();
    for group in discovery.groups() {
        for (resource, caps) in group.recommended_resources() {
            if !kinds.contains(&resource.kind) || !caps.supports_operation(verbs::LIST) {
                continue;
            }
            found.insert(ResourceType {
                group: resource.group,
                version: resource.version,
                kind: resource.kind,
                plural: resource.plural,
                namespaced: matches!(caps.scope, Scope::Namespaced),
            });
        }
    }
    Ok(found.into_iter().collect())
}
