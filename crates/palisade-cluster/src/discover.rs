//! Which resource types to list: the kinds asked for that the server serves and lets list.

use std::collections::BTreeSet;

use futures_util::stream::{self, StreamExt as _};
use serde_json::Value;

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

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovered {
    /// The resource types to list, in order.
    pub types: Vec<ResourceType>,
    /// The API groups whose resources could not be read (an aggregated API whose backend is
    /// down): any kind they serve is missing from `types`.
    pub unavailable: Vec<String>,
}

async fn get(client: &kube::Client, path: &str) -> Result<Value, kube::Error> {
    let request = http::Request::get(path)
        .body(Vec::new())
        .map_err(kube::Error::HttpError)?;
    client.request::<Value>(request).await
}

/// Give `client` without retries ([`crate::Connection::once`]): a group that answers `503` is
/// skipped at once.
///
/// The resource types, at each group's preferred version, whose kind is in `kinds` and that
/// the server lets clients list. Kinds the server does not serve are left out. A group whose
/// resources cannot be read is named in [`Discovered::unavailable`] and the others are used;
/// only failing to read the list of groups is an error.
pub async fn discover(
    client: &kube::Client,
    kinds: &BTreeSet<String>,
) -> Result<Discovered, DiscoverError> {
    let groups = get(client, "/apis").await?;
    let mut versions = vec![("".to_owned(), "v1".to_owned())];
    for group in groups["groups"].as_array().into_iter().flatten() {
        let name = group["name"].as_str().unwrap_or("");
        let preferred = group["preferredVersion"]["version"]
            .as_str()
            .or_else(|| group["versions"][0]["version"].as_str());
        if let Some(version) = preferred {
            versions.push((name.to_owned(), version.to_owned()));
        }
    }
    let documents: Vec<_> = stream::iter(versions)
        .map(|(group, version)| async move {
            let path = if group.is_empty() {
                format!("/api/{version}")
            } else {
                format!("/apis/{group}/{version}")
            };
            let document = get(client, &path).await;
            (group, version, document)
        })
        .buffered(8)
        .collect()
        .await;
    let mut found = BTreeSet::new();
    let mut unavailable = Vec::new();
    for (group, version, document) in documents {
        let document = match document {
            Ok(document) => document,
            // The core group is always served: failing to read it is failing.
            Err(err) if group.is_empty() => return Err(err.into()),
            Err(_) => {
                unavailable.push(format!("{group}/{version}"));
                continue;
            }
        };
        for resource in document["resources"].as_array().into_iter().flatten() {
            let name = resource["name"].as_str().unwrap_or("");
            let kind = resource["kind"].as_str().unwrap_or("");
            let lists = resource["verbs"]
                .as_array()
                .is_some_and(|verbs| verbs.iter().any(|v| v == "list"));
            // Subresources (`pods/log`) share their parent's kind.
            if name.contains('/') || !lists || !kinds.contains(kind) {
                continue;
            }
            found.insert(ResourceType {
                group: group.clone(),
                version: version.clone(),
                kind: kind.to_owned(),
                plural: name.to_owned(),
                namespaced: resource["namespaced"].as_bool().unwrap_or(false),
            });
        }
    }
    Ok(Discovered {
        types: found.into_iter().collect(),
        unavailable,
    })
}
