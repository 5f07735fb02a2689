//! The HTTP side: routing, discovery, lists, watches and faults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use axum_server::tls_rustls::RustlsConfig;
use axum_server::Handle;
use base64::Engine as _;
use futures_util::stream;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::resources::Resource;
use crate::store::{matches_name, watch_line, Event, COMPACTED};
use crate::tls::Pki;
use crate::{lock, Auth, Request, Shared};

pub struct Running {
    pub addr: SocketAddr,
    handle: Handle<SocketAddr>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn stop(mut self) {
        self.handle.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves on a loopback port from a thread with its own runtime.
pub fn spawn(shared: Arc<Shared>, pki: &Pki) -> Running {
    let config = pki.server_config(&shared.auth);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("bound address");
    *lock(&shared.addr) = Some(addr);
    let handle: Handle<SocketAddr> = Handle::new();
    let server_handle = handle.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let app = Router::new()
                .fallback(crate::writes::handle)
                .with_state(shared);
            let server = axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(config))
                .expect("listener")
                .handle(server_handle);
            let _ = server.serve(app.into_make_service()).await;
        });
        // Open watch streams end with the runtime.
        runtime.shutdown_timeout(Duration::from_millis(100));
    });
    Running {
        addr,
        handle,
        thread: Some(thread),
    }
}

/// A `Status` response, as the API server writes errors.
fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    (code, json_headers(), body.to_string()).into_response()
}

fn json_headers() -> [(header::HeaderName, &'static str); 1] {
    [(header::CONTENT_TYPE, "application/json")]
}

fn ok(body: Value) -> Response {
    ok_ref(&body)
}

fn ok_ref(body: &Value) -> Response {
    (StatusCode::OK, json_headers(), body.to_string()).into_response()
}

fn query_map(uri: &Uri) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for pair in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        map.insert(k.to_owned(), percent_decode(v));
    }
    map
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A resource request, parsed from its path.
struct Target {
    resource: usize,
    namespace: Option<String>,
    name: Option<String>,
}

pub(crate) async fn handle_request(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
        let expected = format!("Bearer {token}");
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
        }
    }
    let write = match method {
        Method::GET => None,
        Method::POST | Method::PUT | Method::DELETE => Some((method, body)),
        _ => {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the test server reads, creates, replaces and deletes",
            )
        }
    };
    let path = uri.path().trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let query = query_map(&uri);
    match segments.as_slice() {
        ["version"] => ok(json!({
            "major": "1", "minor": "32", "gitVersion": "v1.32.0-palisade-test",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23", "compiler": "gc",
            "platform": "linux/amd64",
        })),
        ["healthz"] | ["readyz"] | ["livez"] => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response()
        }
        ["api"] => {
            let addr = lock(&shared.addr)
                .map(|a| a.to_string())
                .unwrap_or_default();
            ok(json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": addr}],
            }))
        }
        ["apis"] => ok(group_list(&lock(&shared.store).resources)),
        ["api", "v1", rest @ ..] => {
            resource_request(&shared, "", "v1", rest, &query, &headers, write).await
        }
        ["apis", group, version, rest @ ..] => {
            resource_request(&shared, group, version, rest, &query, &headers, write).await
        }
        _ => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

/// Stable versions first, then beta, then alpha; higher numbers first.
fn version_priority(version: &str) -> (u8, u32, u32) {
    let rest = version.strip_prefix('v').unwrap_or(version);
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let (class, minor) = if tail.is_empty() {
        (3, 0)
    } else if let Some(n) = tail.strip_prefix("beta") {
        (2, n.parse().unwrap_or(0))
    } else if let Some(n) = tail.strip_prefix("alpha") {
        (1, n.parse().unwrap_or(0))
    } else {
        (0, 0)
    };
    (class, major, minor)
}

fn group_list(resources: &[Resource]) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        let versions = groups.entry(&r.group).or_default();
        if !versions.contains(&r.version.as_str()) {
            versions.push(&r.version);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(group, mut versions)| {
            versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
            let entries: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                .collect();
            json!({
                "name": group,
                "versions": entries,
                "preferredVersion": entries[0].clone(),
            })
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(resources: &[Resource], group: &str, version: &str) -> Option<Value> {
    let listed: Vec<Value> = resources
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            json!({
                "name": r.plural,
                "singularName": r.singular(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "list", "watch", "create", "update", "delete"],
            })
        })
        .collect();
    if listed.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": listed,
    }))
}

async fn resource_request(
    shared: &Arc<Shared>,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    write: Option<(Method, Bytes)>,
) -> Response {
    let not_found = || {
        status(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        )
    };
    let target = {
        let store = lock(&shared.store);
        if rest.is_empty() {
            if lock(&shared.faults)
                .unavailable_groups
                .iter()
                .any(|g| g == group)
            {
                return status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                );
            }
            return match resource_list(&store.resources, group, version) {
                Some(list) => ok(list),
                None => not_found(),
            };
        }
        let find = |plural: &str, namespaced: Option<bool>| {
            store.resources.iter().position(|r| {
                r.group == group
                    && r.version == version
                    && r.plural == plural
                    && namespaced.is_none_or(|n| n == r.namespaced)
            })
        };
        let parsed = match rest {
            [plural] => find(plural, None).map(|resource| Target {
                resource,
                namespace: None,
                name: None,
            }),
            ["namespaces", ns, plural] => find(plural, Some(true)).map(|resource| Target {
                resource,
                namespace: Some((*ns).to_owned()),
                name: None,
            }),
            ["namespaces", ns, plural, name] => find(plural, Some(true)).map(|resource| Target {
                resource,
                namespace: Some((*ns).to_owned()),
                name: Some((*name).to_owned()),
            }),
            [plural, name] => find(plural, Some(false)).map(|resource| Target {
                resource,
                namespace: None,
                name: Some((*name).to_owned()),
            }),
            _ => None,
        };
        match parsed {
            Some(target) => target,
            None => return not_found(),
        }
    };
    let resource = lock(&shared.store).resources[target.resource].clone();
    let fault = take_faults(shared, &resource);
    if let Some(delay) = fault.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(response) = fault.response {
        return response;
    }
    if let Some((method, body)) = write {
        return write_request(shared, &target, &resource, method, &body);
    }
    let watch = query.get("watch").is_some_and(|w| w == "true" || w == "1");
    let response = match (&target.name, watch) {
        (_, true) => watch_response(shared, &target, &resource, query),
        (Some(name), false) => get(shared, &target, name),
        (None, false) => {
            // `kubectl get` and metadata informers ask for metadata only, first.
            let metadata_only = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .and_then(|accept| accept.split(',').next())
                .is_some_and(|first| first.contains("as=PartialObjectMetadataList"));
            list(shared, &target, &resource, query, metadata_only)
        }
    };
    if fault.reset {
        return cut(response).await;
    }
    response
}

/// POST to a collection creates, PUT to an object replaces (refused with `409 Conflict` when
/// its `resourceVersion` is not the stored one), DELETE deletes.
fn write_request(
    shared: &Shared,
    target: &Target,
    resource: &Resource,
    method: Method,
    body: &[u8],
) -> Response {
    let mut store = lock(&shared.store);
    let namespace = target.namespace.clone().unwrap_or_default();
    if method == Method::DELETE {
        let Some(name) = &target.name else {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "delete one object",
            );
        };
        return if store.delete(target.resource, &namespace, name) {
            ok(json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}))
        } else {
            status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("{} \"{name}\" not found", resource.plural),
            )
        };
    }
    let Ok(mut object) = serde_json::from_slice::<Value>(body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body is not a JSON object",
        );
    };
    let Some(name) = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "metadata.name: Required value",
        );
    };
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind);
    if resource.namespaced {
        object["metadata"]["namespace"] = json!(namespace);
    }
    let key = (namespace, name.clone());
    let existing = store.objects[target.resource].get(&key).cloned();
    match (&method, &target.name, existing.as_deref()) {
        (&Method::POST, None, Some(_)) => status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("{} \"{name}\" already exists", resource.plural),
        ),
        (&Method::POST, None, None) => {
            store.put(object);
            let stored = store.objects[target.resource].get(&key);
            (
                StatusCode::CREATED,
                json_headers(),
                stored.map_or_else(|| Value::Null.to_string(), |o| o.to_string()),
            )
                .into_response()
        }
        (&Method::PUT, Some(path_name), _) if *path_name != name => status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the name of the object does not match the name on the URL",
        ),
        (&Method::PUT, Some(_), None) => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{} \"{name}\" not found", resource.plural),
        ),
        (&Method::PUT, Some(_), Some(stored)) => {
            let given = object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str);
            let current = stored
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str);
            if given.is_some_and(|given| Some(given) != current) {
                return status(
                    StatusCode::CONFLICT,
                    "Conflict",
                    &format!("Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again", resource.plural),
                );
            }
            if let Some(uid) = stored.pointer("/metadata/uid") {
                object["metadata"]["uid"] = uid.clone();
            }
            store.put(object);
            ok_ref(
                store.objects[target.resource]
                    .get(&key)
                    .map_or(&Value::Null, |o| o),
            )
        }
        _ => status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "POST to a collection, PUT to an object",
        ),
    }
}

/// What the faults say about one request.
#[derive(Default)]
struct Fault {
    delay: Option<Duration>,
    response: Option<Response>,
    reset: bool,
}

fn take_faults(shared: &Shared, resource: &Resource) -> Fault {
    let mut faults = lock(&shared.faults);
    let named = |name: &str| name == "*" || matches_name(resource, name);
    let mut fault = Fault {
        delay: faults.slow.iter().find(|(n, _)| named(n)).map(|(_, d)| *d),
        ..Fault::default()
    };
    if faults.forbidden.iter().any(|n| named(n)) {
        let who = match &shared.auth {
            Auth::Token(_) => "system:serviceaccount:palisade:scanner",
            Auth::ClientCert => "palisade-test-user",
        };
        fault.response = Some(status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{} is forbidden: User \"{who}\" cannot list resource \"{}\" in API group \"{}\"",
                resource.plural, resource.plural, resource.group
            ),
        ));
        return fault;
    }
    if let Some(t) = faults
        .throttled
        .iter_mut()
        .find(|t| t.count > 0 && named(&t.resource))
    {
        t.count -= 1;
        let mut response = status(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        );
        if let Ok(value) = t.retry_after_secs.to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        fault.response = Some(response);
        return fault;
    }
    if let Some((_, count)) = faults.failing.iter_mut().find(|(n, c)| *c > 0 && named(n)) {
        *count -= 1;
        fault.response = Some(status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "Internal error occurred: injected by the test server",
        ));
        return fault;
    }
    if let Some((_, count)) = faults.reset.iter_mut().find(|(n, c)| *c > 0 && named(n)) {
        *count -= 1;
        fault.reset = true;
    }
    fault
}

/// The response's headers and the first bytes of its body, then a broken connection.
async fn cut(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let head = bytes.slice(..bytes.len().min(16));
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(head),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by the test server",
        )),
    ];
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(stream::iter(chunks)))
}

/// The object as a list item or a get: without `apiVersion` and `kind` in lists, as the API
/// server writes typed lists.
fn get(shared: &Shared, target: &Target, name: &str) -> Response {
    let store = lock(&shared.store);
    let key = (
        target.namespace.clone().unwrap_or_default(),
        name.to_owned(),
    );
    match store.objects[target.resource].get(&key) {
        Some(object) => ok_ref(object),
        None => {
            let r = &store.resources[target.resource];
            status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("{} \"{name}\" not found", r.plural),
            )
        }
    }
}

fn encode_continue(rv: u64, namespace: &str, name: &str) -> String {
    let token = json!([rv, namespace, name]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
}

fn decode_continue(token: &str) -> Option<(u64, String, String)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    Some((
        value.get(0)?.as_u64()?,
        value.get(1)?.as_str()?.to_owned(),
        value.get(2)?.as_str()?.to_owned(),
    ))
}

fn list(
    shared: &Shared,
    target: &Target,
    resource: &Resource,
    query: &BTreeMap<String, String>,
    metadata_only: bool,
) -> Response {
    let store = lock(&shared.store);
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|&l| l > 0);
    let (rv, after) = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => match decode_continue(token) {
            Some((rv, ns, name)) if rv >= store.compacted => (rv, Some((ns, name))),
            Some(_) => {
                return status(
                    StatusCode::GONE,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                )
            }
            None => {
                return status(StatusCode::BAD_REQUEST, "BadRequest", "invalid continue token")
            }
        },
        None => (store.rv, None),
    };
    let objects = &store.objects[target.resource];
    let in_namespace =
        |key: &(String, String)| target.namespace.as_ref().is_none_or(|ns| key.0 == *ns);
    let mut items = Vec::new();
    let mut next = None;
    let mut remaining = 0usize;
    let range = match &after {
        Some(key) => objects.range::<(String, String), _>((
            std::ops::Bound::Excluded(key.clone()),
            std::ops::Bound::Unbounded,
        )),
        None => objects.range::<(String, String), _>(..),
    };
    for (key, object) in range.filter(|(k, _)| in_namespace(k)) {
        if limit.is_some_and(|l| items.len() >= l) {
            remaining += 1;
            continue;
        }
        let item = if metadata_only {
            json!({
                "apiVersion": "meta.k8s.io/v1",
                "kind": "PartialObjectMetadata",
                "metadata": object.get("metadata").cloned().unwrap_or(json!({})),
            })
        } else {
            let mut item = Value::clone(object);
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        };
        items.push(item);
        next = Some(key.clone());
    }
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if remaining > 0 {
        if let Some((ns, name)) = next {
            metadata["continue"] = json!(encode_continue(rv, &ns, &name));
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    let (kind, api_version) = if metadata_only {
        (
            "PartialObjectMetadataList".to_owned(),
            "meta.k8s.io/v1".to_owned(),
        )
    } else {
        (format!("{}List", resource.kind), resource.api_version())
    };
    ok(json!({
        "kind": kind,
        "apiVersion": api_version,
        "metadata": metadata,
        "items": items,
    }))
}

/// Whether `object` is in `namespace` (any namespace when `None`).
fn in_namespace(namespace: Option<&str>, object: &Value) -> bool {
    namespace.is_none_or(|ns| {
        object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            == Some(ns)
    })
}

fn watch_response(
    shared: &Arc<Shared>,
    target: &Target,
    resource: &Resource,
    query: &BTreeMap<String, String>,
) -> Response {
    let bookmarks = query
        .get("allowWatchBookmarks")
        .is_some_and(|b| b == "true" || b == "1");
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    let namespace = target.namespace.clone();
    let index = target.resource;
    let matches = move |event: &Event| {
        event.resource == index && in_namespace(namespace.as_deref(), &event.object)
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let mut initial = Vec::new();
    let (mut events, start) = {
        let store = lock(&shared.store);
        let from = query
            .get("resourceVersion")
            .filter(|rv| !rv.is_empty() && *rv != "0");
        match from {
            None => {
                for object in store.objects[index].values() {
                    if in_namespace(target.namespace.as_deref(), object) {
                        initial.push(watch_line("ADDED", object));
                    }
                }
            }
            Some(rv) => {
                let rv: u64 = rv.parse().unwrap_or(0);
                if rv < store.compacted {
                    let gone = json!({
                        "kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "reason": "Expired", "code": 410,
                        "message": format!("too old resource version: {rv} ({})", store.compacted),
                    });
                    let body = watch_line("ERROR", &gone);
                    return (StatusCode::OK, json_headers(), body).into_response();
                }
                for event in store.since(rv).filter(|e| matches(e)) {
                    initial.push(event.line());
                }
            }
        }
        (store.events.subscribe(), store.rv)
    };
    let api_version = resource.api_version();
    let kind = resource.kind.clone();
    let interval = shared.bookmark_interval;
    tokio::spawn(async move {
        for line in initial {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        let mut last = start;
        let mut ticker = tokio::time::interval(interval);
        ticker.tick().await;
        let deadline = async {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        loop {
            let line = tokio::select! {
                _ = &mut deadline => return,
                _ = tx.closed() => return,
                received = events.recv() => match received {
                    Ok(event) if event.resource == COMPACTED => return,
                    Ok(event) => {
                        last = event.rv;
                        if !matches(&event) {
                            continue;
                        }
                        event.line()
                    }
                    // A watcher that falls behind is closed; the client watches again.
                    Err(broadcast::error::RecvError::Lagged(_))
                    | Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = ticker.tick(), if bookmarks => watch_line("BOOKMARK", &json!({
                    "kind": kind, "apiVersion": api_version,
                    "metadata": {"resourceVersion": last.to_string()},
                })),
            };
            if tx.send(line).await.is_err() {
                return;
            }
        }
    });
    let body = stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|line| (Ok::<_, std::io::Error>(line), rx))
    });
    (StatusCode::OK, json_headers(), Body::from_stream(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preferred_versions_are_stable_then_beta_then_alpha() {
        let mut v = vec!["v1alpha1", "v1", "v2beta1", "v1beta1", "v2"];
        v.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
        assert_eq!(v, ["v2", "v1", "v2beta1", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn continue_tokens_round_trip_and_bad_ones_are_refused() {
        let token = encode_continue(42, "kube-system", "coredns");
        assert_eq!(
            decode_continue(&token),
            Some((42, "kube-system".to_owned(), "coredns".to_owned()))
        );
        assert_eq!(decode_continue("not base64!"), None);
    }

    #[test]
    fn queries_are_percent_decoded() {
        let uri: Uri = "/api/v1/pods?limit=2&labelSelector=app%3Dweb"
            .parse()
            .unwrap();
        let q = query_map(&uri);
        assert_eq!(q["limit"], "2");
        assert_eq!(q["labelSelector"], "app=web");
    }
}
