//! Writes and the pod log subresource, for the tests of commands that change a cluster
//! (`palisade isolate`): create (`POST`), patch (`PATCH`: JSON merge patch, and strategic merge
//! patch with the semantics it has on maps such as labels and annotations; lists are replaced)
//! and delete (`DELETE`) of any served resource, `GET .../pods/<name>/log` with `container` and
//! `previous`, and two faults: creates of a resource type refused with `403`, and a pod that
//! vanishes when the first write arrives (as a pod deleted by its controller in the middle of a
//! run). Every other request goes to the read-only server.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::{lock, Auth, Request, Shared, TestServer};

/// The logs, and the faults of writes.
#[derive(Debug, Default)]
pub(crate) struct WriteState {
    /// By namespace, pod, container and whether it is the previous instance's.
    logs: BTreeMap<(String, String, String, bool), String>,
    /// Resource types (as named in [`crate::Faults`]) whose creates get `403 Forbidden`.
    refuse_create: Vec<String>,
    /// Pods (namespace, name) deleted when the next write arrives.
    vanish_on_write: Vec<(String, String)>,
}

impl TestServer {
    /// Serves `text` as the log of a container of a pod (`previous`: of its last instance).
    pub fn set_log(&self, namespace: &str, pod: &str, container: &str, previous: bool, text: &str) {
        lock(&self.shared.writes).logs.insert(
            (
                namespace.to_owned(),
                pod.to_owned(),
                container.to_owned(),
                previous,
            ),
            text.to_owned(),
        );
    }

    /// Refuses every create of this resource type (`networkpolicies`, `Pod`, …) with `403`.
    pub fn refuse_create(&self, resource: &str) {
        lock(&self.shared.writes)
            .refuse_create
            .push(resource.to_owned());
    }

    /// Deletes the pod when the next write (create, patch or delete of anything) arrives,
    /// before that write is handled.
    pub fn vanish_on_write(&self, namespace: &str, pod: &str) {
        lock(&self.shared.writes)
            .vanish_on_write
            .push((namespace.to_owned(), pod.to_owned()));
    }
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code.as_u16(),
    });
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn object_response(code: StatusCode, object: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        object.to_string(),
    )
        .into_response()
}

/// The router's entry: writes and logs here, every other request to the read-only server.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_end_matches('/').to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let log = match segments.as_slice() {
        ["api", "v1", "namespaces", ns, "pods", name, "log"] => Some((*ns, *name)),
        _ => None,
    };
    // Reads and replacements go to the read-only server's handler, which serves watches too.
    if (method == Method::GET || method == Method::PUT) && log.is_none() {
        return crate::http::handle_request(State(shared), method, uri, headers, body).await;
    }
    lock(&shared.requests).push(Request {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        accept: headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    if let Auth::Token(token) = &shared.auth {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(format!("Bearer {token}").as_str()) {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        }
    }
    if let Some((ns, name)) = log {
        return pod_log(&shared, ns, name, uri.query().unwrap_or(""));
    }
    let vanished: Vec<(String, String)> = std::mem::take(&mut lock(&shared.writes).vanish_on_write);
    if !vanished.is_empty() {
        let mut store = lock(&shared.store);
        if let Some(pods) = store
            .resources
            .iter()
            .position(|r| r.group.is_empty() && r.plural == "pods")
        {
            for (ns, name) in &vanished {
                store.delete(pods, ns, name);
            }
        }
    }
    let (group, version, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return status(StatusCode::NOT_FOUND, "NotFound", "no such path"),
    };
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return status(StatusCode::NOT_FOUND, "NotFound", "no such path"),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let target = Target {
        group,
        version,
        namespace,
        plural,
    };
    match (method.as_str(), name) {
        ("POST", None) => create(&shared, &target, &body),
        ("PATCH", Some(name)) => patch(&shared, &target, name, &content_type, &body),
        ("DELETE", Some(name)) => delete(&shared, &target, name),
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the test server does not support this method here",
        ),
    }
}

struct Target<'a> {
    group: &'a str,
    version: &'a str,
    namespace: Option<&'a str>,
    plural: &'a str,
}

impl Target<'_> {
    fn index(&self, store: &crate::store::Store) -> Option<usize> {
        store.resources.iter().position(|r| {
            r.group == self.group
                && r.version == self.version
                && r.plural == self.plural
                && r.namespaced == self.namespace.is_some()
        })
    }

    fn not_found(&self, name: &str) -> Response {
        status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{} \"{name}\" not found", self.plural),
        )
    }
}

fn query_flag(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

fn pod_log(shared: &Shared, ns: &str, name: &str, query: &str) -> Response {
    let exists = {
        let store = lock(&shared.store);
        store
            .resources
            .iter()
            .position(|r| r.group.is_empty() && r.plural == "pods")
            .is_some_and(|i| store.objects[i].contains_key(&(ns.to_owned(), name.to_owned())))
    };
    if !exists {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("pods \"{name}\" not found"),
        );
    }
    let container = query_flag(query, "container").unwrap_or_default();
    let previous = query_flag(query, "previous").is_some_and(|p| p == "true");
    let key = (ns.to_owned(), name.to_owned(), container.clone(), previous);
    match lock(&shared.writes).logs.get(&key) {
        Some(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            text.clone(),
        )
            .into_response(),
        None if previous => status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("previous terminated container \"{container}\" in pod \"{name}\" not found"),
        ),
        None => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "").into_response(),
    }
}

fn create(shared: &Shared, target: &Target<'_>, body: &[u8]) -> Response {
    let Ok(mut object) = serde_json::from_slice::<Value>(body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body is not JSON",
        );
    };
    let mut store = lock(&shared.store);
    let Some(index) = target.index(&store) else {
        return status(StatusCode::NOT_FOUND, "NotFound", "no such resource type");
    };
    let resource = store.resources[index].clone();
    let refused = lock(&shared.writes)
        .refuse_create
        .iter()
        .any(|n| n == "*" || crate::store::matches_name(&resource, n));
    if refused {
        let who = match &shared.auth {
            Auth::Token(_) => "system:serviceaccount:palisade:scanner",
            Auth::ClientCert => "palisade-test-user",
        };
        let full = if resource.group.is_empty() {
            resource.plural.clone()
        } else {
            format!("{}.{}", resource.plural, resource.group)
        };
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{full} is forbidden: User \"{who}\" cannot create resource \"{}\" in API group \"{}\" in the namespace \"{}\"",
                resource.plural,
                resource.group,
                target.namespace.unwrap_or("")
            ),
        );
    }
    if object.get("kind").and_then(Value::as_str) != Some(resource.kind.as_str())
        || object.get("apiVersion").and_then(Value::as_str) != Some(&resource.api_version())
    {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the object's apiVersion and kind do not match the URL",
        );
    }
    let Some(name) = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
    else {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "metadata.name: Required value",
        );
    };
    if let Some(ns) = target.namespace {
        let given = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        if given.is_some_and(|g| g != ns) {
            return status(
                StatusCode::BAD_REQUEST,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            );
        }
        object["metadata"]["namespace"] = json!(ns);
    }
    let key = (target.namespace.unwrap_or("").to_owned(), name.clone());
    if store.objects[index].contains_key(&key) {
        return status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", resource.plural),
        );
    }
    if let Some(metadata) = object["metadata"].as_object_mut() {
        metadata.remove("uid");
        metadata.remove("resourceVersion");
    }
    store.put(object);
    let stored = store.objects[index].get(&key).cloned().unwrap_or_default();
    object_response(StatusCode::CREATED, &stored)
}

/// RFC 7386: objects merge, `null` removes a key, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(map) = target.as_object_mut() else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            map.remove(key);
        } else {
            merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn patch(
    shared: &Shared,
    target: &Target<'_>,
    name: &str,
    content_type: &str,
    body: &[u8],
) -> Response {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(
        media,
        "application/merge-patch+json" | "application/strategic-merge-patch+json"
    ) {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!("the test server does not take patches of type {media:?}"),
        );
    }
    let Ok(patch) = serde_json::from_slice::<Value>(body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the patch is not JSON",
        );
    };
    let mut store = lock(&shared.store);
    let Some(index) = target.index(&store) else {
        return status(StatusCode::NOT_FOUND, "NotFound", "no such resource type");
    };
    let key = (target.namespace.unwrap_or("").to_owned(), name.to_owned());
    let Some(mut object) = store.objects[index].get(&key).map(|o| Value::clone(o)) else {
        return target.not_found(name);
    };
    let expected_rv = patch
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let current_rv = object
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if expected_rv.is_some() && expected_rv != current_rv {
        return status(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                target.plural
            ),
        );
    }
    let identity = (
        object.get("apiVersion").cloned(),
        object.get("kind").cloned(),
        object.pointer("/metadata/name").cloned(),
        object.pointer("/metadata/namespace").cloned(),
        object.pointer("/metadata/uid").cloned(),
    );
    merge(&mut object, &patch);
    // What identifies the object does not change.
    object["apiVersion"] = identity.0.unwrap_or_default();
    object["kind"] = identity.1.unwrap_or_default();
    object["metadata"]["name"] = identity.2.unwrap_or_default();
    if let Some(ns) = identity.3 {
        object["metadata"]["namespace"] = ns;
    }
    object["metadata"]["uid"] = identity.4.unwrap_or_default();
    if let Some(metadata) = object["metadata"].as_object_mut() {
        metadata.remove("resourceVersion");
    }
    store.put(object);
    let stored = store.objects[index].get(&key).cloned().unwrap_or_default();
    object_response(StatusCode::OK, &stored)
}

fn delete(shared: &Shared, target: &Target<'_>, name: &str) -> Response {
    let mut store = lock(&shared.store);
    let Some(index) = target.index(&store) else {
        return status(StatusCode::NOT_FOUND, "NotFound", "no such resource type");
    };
    let key = (target.namespace.unwrap_or("").to_owned(), name.to_owned());
    let Some(object) = store.objects[index].get(&key).cloned() else {
        return target.not_found(name);
    };
    store.delete(index, &key.0, &key.1);
    object_response(StatusCode::OK, &object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patches_follow_rfc_7386() {
        let mut target =
            json!({"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": [1]});
        merge(
            &mut target,
            &json!({"metadata": {"labels": {"app": null, "q": "1"}}, "spec": [2]}),
        );
        assert_eq!(
            target,
            json!({"metadata": {"labels": {"tier": "front", "q": "1"}}, "spec": [2]})
        );
    }
}
