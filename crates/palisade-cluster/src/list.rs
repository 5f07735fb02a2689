//! Listing resource types in pages, several at once, streaming each object to the caller.

use std::sync::Arc;

use futures_util::stream::{self, StreamExt as _};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::connect::Connection;
use crate::discover::ResourceType;

/// How to list.
#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Only this namespace (cluster-scoped types are listed whole).
    pub namespace: Option<String>,
    /// Objects per page (`limit`).
    pub chunk_size: u32,
    /// Resource types listed at once.
    pub concurrency: usize,
    /// Read Secrets whole; otherwise as metadata only.
    pub secret_data: bool,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            namespace: None,
            chunk_size: 500,
            concurrency: 4,
            secret_data: false,
        }
    }
}

/// A resource type that could not be listed, or not completely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot list {resource}: {message}")]
pub struct ResourceError {
    /// `plural` or `plural.group`.
    pub resource: String,
    /// The URL of the collection.
    pub url: String,
    /// The HTTP status, when the server answered.
    pub code: Option<u16>,
    pub message: String,
}

/// What listing delivers, as it goes.
#[derive(Debug)]
pub enum Listed {
    /// An object, with its `apiVersion` and `kind`.
    Object(Value),
    Error(ResourceError),
}

/// Lists `types`, `options.concurrency` at a time, each in pages of `options.chunk_size`,
/// sending each object (and each failure) to `sink` as its page arrives. Returns when every
/// type is listed, or when the receiver is gone.
pub async fn list(
    connection: &Connection,
    types: Vec<ResourceType>,
    options: &ListOptions,
    sink: mpsc::Sender<Listed>,
) {
    let connection = Arc::new(connection.clone());
    stream::iter(types)
        .for_each_concurrent(options.concurrency.max(1), |resource| {
            let sink = sink.clone();
            let connection = connection.clone();
            async move {
                if let Err(error) =
                    list_one(&connection, &resource, options, &mut Output::Stream(&sink)).await
                {
                    let _ = sink.send(Listed::Error(error)).await;
                }
            }
        })
        .await;
}

/// A URL query value: unreserved characters as they are, the rest percent-encoded.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Why a request failed, in words, and its HTTP status when the server answered.
pub(crate) fn describe(err: &kube::Error) -> (Option<u16>, String) {
    if let kube::Error::Api(status) = err {
        let message = if status.message.is_empty() {
            status.reason.clone()
        } else {
            status.message.clone()
        };
        return (Some(status.code), format!("{} {}", status.code, message));
    }
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut chain = Vec::new();
    let mut timed_out = false;
    while let Some(e) = source {
        let text = e.to_string();
        timed_out |= text.contains("timed out") || text.contains("deadline has elapsed");
        if !chain.iter().any(|c: &String| c.contains(&text)) {
            chain.push(text);
        }
        source = e.source();
    }
    let detail = chain.join(": ");
    if timed_out {
        (None, format!("timed out: {detail}"))
    } else {
        (None, detail)
    }
}

/// Where the objects of a list go.
pub(crate) enum Output<'a> {
    Stream(&'a mpsc::Sender<Listed>),
    Collect(&'a mut Vec<Value>),
}

/// Lists one resource type page by page; returns the list's resource version, or `None` when
/// the receiver is gone.
pub(crate) async fn list_one(
    connection: &Connection,
    resource: &ResourceType,
    options: &ListOptions,
    output: &mut Output<'_>,
) -> Result<Option<String>, ResourceError> {
    let path = resource.path(options.namespace.as_deref());
    let url = format!("{}{path}", connection.server);
    let metadata_only =
        resource.group.is_empty() && resource.kind == "Secret" && !options.secret_data;
    let mut token: Option<String> = None;
    let api_version = Value::String(resource.api_version());
    let kind = Value::String(resource.kind.clone());
    let error = |code, message| ResourceError {
        resource: resource.name(),
        url: url.clone(),
        code,
        message,
    };
    loop {
        let mut uri = format!("{path}?limit={}", options.chunk_size.max(1));
        if let Some(token) = &token {
            uri.push_str("&continue=");
            uri.push_str(&encode(token));
        }
        let mut request = http::Request::get(uri);
        if metadata_only {
            request = request.header(
                http::header::ACCEPT,
                "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json",
            );
        }
        let request = request
            .body(Vec::new())
            .map_err(|err| error(None, err.to_string()))?;
        let page: Value = match connection.client.request(request).await {
            Ok(page) => page,
            Err(err) => {
                let (code, mut message) = describe(&err);
                if token.is_some() {
                    message.push_str(" (after some pages: the objects already read are checked)");
                }
                return Err(error(code, message));
            }
        };
        let Value::Object(mut page) = page else {
            return Err(error(None, "the list is not a JSON object".to_owned()));
        };
        let metadata = page.get("metadata");
        let field = |name: &str| {
            metadata
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        token = field("continue");
        let version = field("resourceVersion").unwrap_or_default();
        let items = match page.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        drop(page);
        for item in items {
            let Value::Object(item) = item else {
                continue;
            };
            let object = typed(item, &api_version, &kind, metadata_only);
            match output {
                Output::Stream(sink) => {
                    if sink.send(Listed::Object(object)).await.is_err() {
                        return Ok(None);
                    }
                }
                Output::Collect(objects) => objects.push(object),
            }
        }
        if token.is_none() {
            return Ok(Some(version));
        }
    }
}

/// An item of a list as an object: `apiVersion` and `kind` first (lists leave them out), and
/// for a Secret read as metadata, nothing but its metadata.
pub(crate) fn typed(
    mut item: Map<String, Value>,
    api_version: &Value,
    kind: &Value,
    metadata_only: bool,
) -> Value {
    let mut object = Map::with_capacity(item.len() + 2);
    object.insert("apiVersion".to_owned(), api_version.clone());
    object.insert("kind".to_owned(), kind.clone());
    item.remove("apiVersion");
    item.remove("kind");
    if metadata_only {
        if let Some(metadata) = item.remove("metadata") {
            object.insert("metadata".to_owned(), metadata);
        }
        return Value::Object(object);
    }
    object.extend(item);
    Value::Object(object)
}

/// The URL of an object: the server, the collection of its type, and its name.
pub fn object_url(server: &str, resource: &ResourceType, object: &Value) -> String {
    let metadata = object.get("metadata");
    let field = |name: &str| metadata.and_then(|m| m.get(name)).and_then(Value::as_str);
    let path = resource.path(field("namespace"));
    format!("{server}{path}/{}", field("name").unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn continue_tokens_are_percent_encoded() {
        assert_eq!(encode("eyJ2Ijo+/="), "eyJ2Ijo%2B%2F%3D");
    }

    #[test]
    fn secrets_read_as_metadata_keep_nothing_else() {
        let Value::Object(item) =
            json!({"metadata": {"name": "s"}, "data": {"k": "c2VjcmV0"}, "type": "Opaque"})
        else {
            unreachable!()
        };
        let object = typed(item, &json!("v1"), &json!("Secret"), true);
        assert_eq!(
            object,
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}})
        );
    }
}
