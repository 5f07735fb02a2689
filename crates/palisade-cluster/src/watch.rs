//! Watching a resource type: a list, then a watch from its resource version with bookmarks;
//! a new list when the server says the version is too old (`410 Gone`).

use std::time::Duration;

use futures_util::StreamExt as _;
use kube::core::WatchEvent;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::connect::Connection;
use crate::discover::ResourceType;
use crate::list::{describe, list_one, typed, ListOptions, Output, ResourceError};

/// How to watch.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub list: ListOptions,
    /// How long one watch request lasts before it is made again (`timeoutSeconds`).
    pub watch_timeout: Duration,
    /// How long to wait after a failure before trying again.
    pub retry: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            list: ListOptions::default(),
            watch_timeout: Duration::from_secs(300),
            retry: Duration::from_secs(5),
        }
    }
}

/// What a watch delivers.
#[derive(Debug)]
pub enum Change {
    /// Every object of a resource type, after a list: replaces what was known of the type.
    Listed {
        resource: ResourceType,
        objects: Vec<Value>,
    },
    /// An object was created or changed.
    Applied(Value),
    Deleted(Value),
    /// The type could not be listed or watched; it is tried again.
    Failed(ResourceError),
}

/// Watches one resource type until the receiver is gone.
pub async fn watch(
    connection: Connection,
    resource: ResourceType,
    options: WatchOptions,
    sink: mpsc::Sender<Change>,
) {
    let metadata_only =
        resource.group.is_empty() && resource.kind == "Secret" && !options.list.secret_data;
    let api_version = Value::String(resource.api_version());
    let kind = Value::String(resource.kind.clone());
    let path = resource.path(options.list.namespace.as_deref());
    let failed = |message: String, code| {
        Change::Failed(ResourceError {
            resource: resource.name(),
            url: format!("{}{path}", connection.server),
            code,
            message,
        })
    };
    loop {
        let mut objects = Vec::new();
        let listed = list_one(
            &connection,
            &resource,
            &options.list,
            &mut Output::Collect(&mut objects),
        )
        .await;
        let mut version = match listed {
            Ok(Some(version)) => version,
            Ok(None) => return,
            Err(error) => {
                if sink.send(Change::Failed(error)).await.is_err() {
                    return;
                }
                tokio::time::sleep(options.retry).await;
                continue;
            }
        };
        let listed = Change::Listed {
            resource: resource.clone(),
            objects,
        };
        if sink.send(listed).await.is_err() {
            return;
        }
        // Watch from the list's version until it is too old.
        'watch: loop {
            let uri = format!(
                "{path}?watch=true&allowWatchBookmarks=true&resourceVersion={version}&timeoutSeconds={}",
                options.watch_timeout.as_secs().max(1)
            );
            let mut request = http::Request::get(uri);
            if metadata_only {
                request = request.header(
                    http::header::ACCEPT,
                    "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io,application/json",
                );
            }
            let Ok(request) = request.body(Vec::new()) else {
                return;
            };
            let events = match connection.client.request_events::<Value>(request).await {
                Ok(events) => events,
                Err(err) => {
                    let (code, message) = describe(&err);
                    if code == Some(410) {
                        break 'watch;
                    }
                    if sink.send(failed(message, code)).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(options.retry).await;
                    continue 'watch;
                }
            };
            let mut events = std::pin::pin!(events);
            while let Some(event) = events.next().await {
                let change = match event {
                    Ok(WatchEvent::Added(object)) | Ok(WatchEvent::Modified(object)) => {
                        Change::Applied(object)
                    }
                    Ok(WatchEvent::Deleted(object)) => Change::Deleted(object),
                    Ok(WatchEvent::Bookmark(bookmark)) => {
                        version = bookmark.metadata.resource_version;
                        continue;
                    }
                    Ok(WatchEvent::Error(status)) if status.code == 410 => break 'watch,
                    Ok(WatchEvent::Error(status)) => failed(
                        format!("{} {}", status.code, status.message),
                        Some(status.code),
                    ),
                    Err(err) => {
                        let (code, message) = describe(&err);
                        failed(message, code)
                    }
                };
                let change = match change {
                    Change::Applied(Value::Object(object)) => {
                        Change::Applied(typed(object, &api_version, &kind, metadata_only))
                    }
                    Change::Deleted(Value::Object(object)) => {
                        Change::Deleted(typed(object, &api_version, &kind, metadata_only))
                    }
                    other => other,
                };
                if let Change::Applied(object) | Change::Deleted(object) = &change {
                    if let Some(v) = object
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str)
                    {
                        version = v.to_owned();
                    }
                }
                let retry = matches!(change, Change::Failed(_));
                if sink.send(change).await.is_err() {
                    return;
                }
                if retry {
                    tokio::time::sleep(options.retry).await;
                    continue 'watch;
                }
            }
            // The watch ended (its timeout): watch again from the last version seen.
        }
    }
}
